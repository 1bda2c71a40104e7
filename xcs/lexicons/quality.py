"""How good is a lexicon: coverage of frequent source words and precision@k against a gold dictionary.

- Coverage@N: the share of the ``N`` most frequent source-language words (``wordfreq``) that the
  lexicon has an entry for — how much of running text code-switching can touch.
- P@k (the BLI standard): over the evaluated source words — those that both the lexicon and the
  gold dictionary contain, optionally restricted to the ``N`` most frequent — the share whose first
  ``k`` candidates include at least one gold translation. ``evaluated`` says how many words that is;
  a word the lexicon lacks costs coverage, not precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from xcs.lexicons.lexicon import Lexicon


@dataclass
class LexiconQuality:
    """Quality figures for one lexicon; ``coverage`` maps N -> fraction of the top-N words covered,
    ``precision`` maps k -> P@k (``None`` when no word could be evaluated)."""

    src_lang: str
    tgt_lang: str
    entries: int
    pairs: int
    coverage: dict[int, float] = field(default_factory=dict)
    precision: dict[int, float | None] = field(default_factory=dict)
    evaluated: int = 0
    gold_entries: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def format(self) -> str:
        """A short human-readable report."""
        lines = [f"{self.src_lang}-{self.tgt_lang}: {self.entries} source entries, {self.pairs} pairs"]
        for n, cov in sorted(self.coverage.items()):
            lines.append(f"  coverage of top-{n} {self.src_lang} words: {100 * cov:.1f}%")
        if self.precision:
            lines.append(f"  evaluated against gold ({self.gold_entries} entries): {self.evaluated} words")
            for k, p in sorted(self.precision.items()):
                lines.append(f"  P@{k}: " + ("n/a" if p is None else f"{100 * p:.1f}%"))
        return "\n".join(lines)


def coverage(lex: Lexicon, words: Sequence[str], *, casefold: bool = True) -> float:
    """Fraction of ``words`` with an entry in ``lex``."""
    if not words:
        raise ValueError("coverage needs at least one word")
    keys = {s.casefold() for s in lex.entries} if casefold else set(lex.entries)
    return sum((w.casefold() if casefold else w) in keys for w in words) / len(words)


def precision_at_k(
    lex: Lexicon,
    gold: Lexicon,
    ks: Sequence[int] = (1, 5),
    *,
    sources: Sequence[str] | None = None,
    casefold: bool = True,
) -> tuple[dict[int, float | None], int]:
    """``({k: P@k}, evaluated)`` over source words in both ``lex`` and ``gold`` (and in ``sources``
    when given). Candidates are ranked in ``lex``'s order."""
    norm = (lambda s: s.casefold()) if casefold else (lambda s: s)
    predicted: dict[str, list[str]] = {}
    for s, targets in lex.entries.items():
        predicted.setdefault(norm(s), []).extend(norm(t) for t in targets)
    truth: dict[str, set[str]] = {}
    for s, t in gold.pairs():
        truth.setdefault(norm(s), set()).add(norm(t))
    words = truth.keys() & predicted.keys()
    if sources is not None:
        words &= {norm(w) for w in sources}
    hits = {k: 0 for k in ks}
    for w in words:
        for k in ks:
            hits[k] += any(t in truth[w] for t in predicted[w][:k])
    n = len(words)
    return {k: (hits[k] / n if n else None) for k in ks}, n


def evaluate_lexicon(
    lex: Lexicon,
    gold: Lexicon | None = None,
    *,
    top_words: Sequence[int] = (5000, 20000),
    ks: Sequence[int] = (1, 5),
    restrict_to_top: int | None = None,
    casefold: bool = True,
) -> LexiconQuality:
    """Coverage of the top-N source words for each N in ``top_words`` and, with ``gold``, P@k.

    ``restrict_to_top`` evaluates precision only on the N most frequent source words.
    """
    from xcs.lexicons.filters import frequent_words

    quality = LexiconQuality(lex.src_lang, lex.tgt_lang, entries=len(lex),
                             pairs=sum(len(t) for t in lex.entries.values()))
    if top_words:
        ranked = frequent_words(lex.src_lang, max(top_words))
        for n in top_words:
            quality.coverage[n] = coverage(lex, ranked[:n], casefold=casefold)
    if gold is not None:
        sources = frequent_words(lex.src_lang, restrict_to_top) if restrict_to_top else None
        quality.precision, quality.evaluated = precision_at_k(lex, gold, ks, sources=sources,
                                                              casefold=casefold)
        quality.gold_entries = len(gold)
    return quality
