"""String-level code-switching pipelines that xcs is measured against (benchmarks, equivalence tests).

* :class:`PaperPipeline` — the pipeline of Litschko et al. (2023): NLTK Treebank word
  tokenization, lowercase lookup, replacement with probability ``p``, Treebank detokenization,
  then tokenization with the model's tokenizer.
* :class:`ContrastiveMixPipeline` — the ContrastiveMix style: token IDs -> decode -> whitespace
  words -> lowercase lookup -> tokenize each word -> token IDs.

Both draw with Python's ``random.Random(seed)`` by default. ``ContrastiveMixPipeline`` also
accepts a ``draw`` callable so that tests can impose the engine's own draws (same words chosen,
same translations) and compare outputs token for token.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from xcs.lexicons.lexicon import Lexicon

# draw(example_index, word_index, n_candidates) -> candidate index, or None to keep the word.
Draw = Callable[[int, int, int], "int | None"]


def _random_draw(p: float, seed: int) -> Draw:
    rng = random.Random(seed)

    def draw(example: int, word: int, n_candidates: int) -> int | None:
        return rng.randrange(n_candidates) if rng.random() < p else None

    return draw


def _lowercase_entries(lexicon: Lexicon) -> dict[str, list[str]]:
    """Lookup table keyed by lowercased source; the first entry of a lowercased key wins."""
    table: dict[str, list[str]] = {}
    for source, targets in lexicon.entries.items():
        table.setdefault(source.lower(), targets)
    return table


class PaperPipeline:
    """Text -> Treebank words -> switch (lowercase lookup, probability ``p``) -> detokenize -> ids."""

    def __init__(self, tokenizer, lexicon: Lexicon, p: float = 0.5, seed: int = 0):
        from nltk.tokenize import TreebankWordDetokenizer, TreebankWordTokenizer

        self.tokenizer = tokenizer
        self.entries = _lowercase_entries(lexicon)
        self.p = p
        self._draw = _random_draw(p, seed)
        self._words = TreebankWordTokenizer()
        self._detok = TreebankWordDetokenizer()

    def switch_text(self, text: str, example: int = 0) -> str:
        words = self._words.tokenize(text)
        for i, word in enumerate(words):
            candidates = self.entries.get(word.lower())
            if candidates:
                choice = self._draw(example, i, len(candidates))
                if choice is not None:
                    words[i] = candidates[choice]
        return self._detok.detokenize(words)

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        """Code-switched token ids (with special tokens) of each text."""
        switched = [self.switch_text(text, i) for i, text in enumerate(texts)]
        return self.tokenizer(switched)["input_ids"]


class ContrastiveMixPipeline:
    """Token ids -> decode -> whitespace words -> switch -> tokenize each word -> token ids.

    Leading and trailing special tokens of the input are kept. Word ``i`` of example ``e`` is
    decided by ``draw(e, i, n_candidates)``.
    """

    def __init__(self, tokenizer, lexicon: Lexicon, p: float = 0.5, seed: int = 0, draw: Draw | None = None):
        self.tokenizer = tokenizer
        self.entries = _lowercase_entries(lexicon)
        self.special = set(tokenizer.all_special_ids)
        self._draw = draw if draw is not None else _random_draw(p, seed)
        self._word_ids: dict[str, list[int]] = {}

    def _tokenize_word(self, word: str) -> list[int]:
        ids = self._word_ids.get(word)
        if ids is None:
            ids = self.tokenizer(word, add_special_tokens=False)["input_ids"]
            self._word_ids[word] = ids
        return ids

    def switch_ids(self, ids: Sequence[int], example: int = 0) -> list[int]:
        lo, hi = 0, len(ids)
        while lo < hi and ids[lo] in self.special:
            lo += 1
        while hi > lo and ids[hi - 1] in self.special:
            hi -= 1
        out = list(ids[:lo])
        for i, word in enumerate(self.tokenizer.decode(ids[lo:hi]).split()):
            candidates = self.entries.get(word.lower())
            choice = self._draw(example, i, len(candidates)) if candidates else None
            out.extend(self._tokenize_word(word if choice is None else candidates[choice]))
        out.extend(ids[hi:])
        return out

    def __call__(self, batch: Sequence[Sequence[int]], offset: int = 0) -> list[list[int]]:
        return [self.switch_ids(ids, offset + i) for i, ids in enumerate(batch)]
