"""Pivot composition: ``A->B`` and ``B->C`` give ``A->C`` (e.g. ar->en->it for the AR-IT pair)."""

from __future__ import annotations

from xcs.lexicons.lexicon import Lexicon, check_cap


def compose(
    first: Lexicon,
    second: Lexicon,
    *,
    max_per_pivot: int | None = None,
    max_candidates: int | None = None,
    drop_identical: bool = False,
) -> Lexicon:
    """Translate every source of ``first`` through each of its pivot words with ``second``.

    Candidates keep the order of ``first``'s pivots, then ``second``'s targets, so the best pivot's
    best translation comes first. ``max_per_pivot`` caps how many targets one pivot word contributes
    and ``max_candidates`` caps the fan-out per source (a frequent pivot such as "the" would
    otherwise pull in dozens of targets).
    """
    if first.tgt_lang != second.src_lang:
        raise ValueError(
            f"cannot compose {first.src_lang}->{first.tgt_lang} with {second.src_lang}->{second.tgt_lang}:"
            f" the pivot languages differ ({first.tgt_lang!r} vs {second.src_lang!r})"
        )
    check_cap("max_per_pivot", max_per_pivot)
    check_cap("max_candidates", max_candidates)
    out = Lexicon(first.src_lang, second.tgt_lang)
    for src, pivots in first.entries.items():
        for pivot in pivots:
            for tgt in second.entries.get(pivot, [])[:max_per_pivot]:
                out.add(src, tgt, drop_identical=drop_identical, max_candidates=max_candidates)
    return out
