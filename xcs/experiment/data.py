"""The experiment's training data: SQuAD v1.1 dev pairs minus the XQuAD paragraphs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def training_pairs(data_dir: str | os.PathLike[str], data: Mapping[str, Any], seed: int = 0) -> list:
    """(question, answer sentence, paragraph) pairs from SQuAD v1.1 dev minus the XQuAD paragraphs.

    ``max_pairs`` keeps a seeded random subset (the same for every method and seed of a run, so
    methods are compared on identical data).
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from xcs.data.pairs import TrainPair
    from xcs.data.pairs_file import subsample
    from xcs.data.squad import load_squad_pairs

    raw = load_squad_pairs(Path(data_dir) / "squad" / "dev-v1.1.json",
                           exclude_xquad=bool(data.get("hold_out_xquad", True)))
    splitter = PunktSentenceTokenizer()  # the splitter the loader used to find the answer sentence
    sentences: dict[str, tuple[str, ...]] = {}
    pairs = []
    for p in raw:
        if p.paragraph not in sentences:
            sentences[p.paragraph] = tuple(splitter.tokenize(p.paragraph))
        pairs.append(TrainPair(p.question, p.answer_sentence, sentences[p.paragraph]))
    return subsample(pairs, data.get("max_pairs"), seed)
