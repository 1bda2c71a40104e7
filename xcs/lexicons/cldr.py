"""Parallel entity names from the Unicode CLDR (via ``babel``) as a Wiki-CS phrase lexicon.

CLDR gives, per locale, the display names of territories (``US`` -> "United States" /
"Vereinigte Staaten"), languages, currencies and scripts. Pairing the English name of a code with
its name in the target locale gives a parallel list of entity names like the Wikipedia titles of
:mod:`xcs.lexicons.wikititles`, and it is cleaned the same way (:func:`~xcs.lexicons.wikititles.
phrase_lexicon`: lowercased, parenthesised qualifiers cut, at most ``max_words`` words, English
stopwords dropped as single-word sources).

Alternative names: babel's compiled CLDR data keeps one name per code (CLDR's ``alt="short"`` /
``alt="variant"`` forms are not shipped), so there are none to add. ``pycountry`` was measured as
an extra source (ISO 3166-1 common / official names, ISO 3166-2 subdivisions with their gettext
translations) and left out: see docs/lexicons.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from xcs.lexicons.lexicon import Lexicon
from xcs.lexicons.wikititles import phrase_lexicon

# CLDR display-name tables, named as babel.Locale's attributes
KINDS = ("territories", "languages", "currencies", "scripts")
# CLDR codes whose names are not entities but common words or placeholders ("Common", "Moon",
# "Gold", "Unknown language"): precious metals, test and unknown codes, pseudo-locales.
NON_ENTITY_CODES = {
    "scripts": frozenset({"Moon", "Zinh", "Zmth", "Zsye", "Zsym", "Zxxx", "Zyyy", "Zzzz"}),
    "currencies": frozenset({"XAG", "XAU", "XPD", "XPT", "XTS", "XXX"}),
    "languages": frozenset({"mis", "mul", "und", "zxx"}),
    "territories": frozenset({"XA", "XB", "ZZ"}),
}


def parse_kinds(text: str) -> tuple[str, ...]:
    """``"territories,languages"`` -> ``("territories", "languages")``; ValueError naming the
    unknown kinds (and the known ones) otherwise."""
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        raise ValueError(f"unknown kind(s) {unknown or [text]}; known: {', '.join(KINDS)}")
    return kinds


def cldr_names(lang: str, kind: str) -> dict[str, str]:
    """``{code: display name}`` of one CLDR ``kind`` in locale ``lang`` (babel)."""
    from babel import Locale, UnknownLocaleError

    if kind not in KINDS:
        raise ValueError(f"unknown CLDR kind {kind!r}; known: {', '.join(KINDS)}")
    try:
        locale = Locale.parse(lang)
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"CLDR (babel) has no locale {lang!r} ({exc})") from None
    return dict(getattr(locale, kind))


def iter_cldr_pairs(src_lang: str, tgt_lang: str, kind: str) -> Iterator[tuple[str, str]]:
    """Raw ``(source name, target name)`` pairs of the codes named in both locales (without the
    :data:`NON_ENTITY_CODES`)."""
    src_names, tgt_names = cldr_names(src_lang, kind), cldr_names(tgt_lang, kind)
    for code, name in src_names.items():
        if code in tgt_names and code not in NON_ENTITY_CODES[kind]:
            yield name, tgt_names[code]


def read_cldr(
    src_lang: str,
    tgt_lang: str,
    *,
    kinds: Iterable[str] = KINDS,
    max_words: int = 3,
    stopwords: frozenset[str] | None = None,
    drop_identical: bool = False,
) -> Lexicon:
    """The entity-name phrase lexicon ``src_lang -> tgt_lang`` of the chosen ``kinds``.

    Pairs are taken kind by kind in the order given (a name that is, say, both a language and a
    script gets the first kind's translation first) and pass through
    :func:`~xcs.lexicons.wikititles.phrase_lexicon`.
    """
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind(s) {unknown}; known: {', '.join(KINDS)}")
    pairs = [pair for kind in kinds for pair in iter_cldr_pairs(src_lang, tgt_lang, kind)]
    return phrase_lexicon(pairs, src_lang, tgt_lang, max_words=max_words, stopwords=stopwords,
                          drop_identical=drop_identical)
