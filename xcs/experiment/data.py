"""The experiment's training data: SQuAD v1.1 dev pairs minus the XQuAD paragraphs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xcs.data.options import DataOptions


def training_pairs(data_dir: str | os.PathLike[str], data: DataOptions | Mapping[str, Any] | None = None,
                   seed: int = 0) -> list:
    """(question, answer sentence, paragraph) pairs from SQuAD v1.1 dev minus the XQuAD paragraphs.

    ``data`` is a :class:`DataOptions` or a mapping of its fields (validated; None: the defaults).
    ``max_pairs`` keeps a seeded random subset (the same for every method and seed of a run, so
    methods are compared on identical data).
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from xcs.data.pairs import TrainPair
    from xcs.data.pairs_file import subsample
    from xcs.data.squad import load_squad_pairs

    if not isinstance(data, DataOptions):
        data = DataOptions(**(data or {}))
    raw = load_squad_pairs(Path(data_dir) / "squad" / "dev-v1.1.json", exclude_xquad=data.hold_out_xquad)
    splitter = PunktSentenceTokenizer()  # the splitter the loader used to find the answer sentence
    sentences: dict[str, tuple[str, ...]] = {}
    pairs = []
    for p in raw:
        if p.paragraph not in sentences:
            sentences[p.paragraph] = tuple(splitter.tokenize(p.paragraph))
        pairs.append(TrainPair(p.question, p.answer_sentence, sentences[p.paragraph]))
    return subsample(pairs, data.max_pairs, seed)
