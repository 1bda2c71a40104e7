"""``TrainPair``: one training example, what every training-data reader produces and training consumes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainPair:
    """One training example: a query and the sentence that answers it.

    ``paragraph`` holds every sentence of the positive's paragraph (the positive included); it feeds
    the ``"paragraph"`` hard negatives and may be empty when unknown. ``negatives`` are hard negatives
    given with the example (e.g. by ``xcs train --train-file ... --negative-columns``); they feed the
    ``"given"`` hard negatives.
    """

    query: str
    positive: str
    paragraph: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()
