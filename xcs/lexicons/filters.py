"""Lexicon filters: each takes a :class:`~xcs.lexicons.lexicon.Lexicon` and returns a new, filtered one.

Candidate order (best first) is preserved; a source whose candidates are all removed is dropped.
Also the word lists the filters and the code-switching engine share: :func:`stopwords` (NLTK's
lists) and :func:`frequent_words` (wordfreq).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable

import numpy as np

from xcs.lexicons.lexicon import Lexicon, check_cap

# Writing systems of the languages xcs meets (XTREME-R, MUSE). The script of a letter is the first
# word of its Unicode character name ("CYRILLIC SMALL LETTER A" -> CYRILLIC), which is how the
# Unicode names encode the Script property for letters of these scripts.
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **{lang: frozenset({"LATIN"}) for lang in (
        "af", "ca", "cs", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it", "lt",
        "lv", "ms", "nl", "no", "pl", "pt", "ro", "sk", "sl", "sq", "sv", "tl", "tr", "vi", "bs")},
    **{lang: frozenset({"CYRILLIC"}) for lang in ("ru", "uk", "bg", "mk", "sr", "kk")},
    **{lang: frozenset({"ARABIC"}) for lang in ("ar", "fa", "ur")},
    "zh": frozenset({"CJK"}),
    "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    "ko": frozenset({"HANGUL", "CJK"}),
    "el": frozenset({"GREEK"}),
    "he": frozenset({"HEBREW"}),
    "hi": frozenset({"DEVANAGARI"}),
    "bn": frozenset({"BENGALI"}),
    "ta": frozenset({"TAMIL"}),
    "th": frozenset({"THAI"}),
}

# NLTK's English stopword list (nltk.corpus.stopwords, "english"), embedded because the corpus is
# a separate download that offline machines lack.
_STOPWORD_TEXT = """
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves
he him his himself she she's her hers herself it it's its itself they them their theirs themselves
what which who whom this that that'll these those am is are was were be been being have has had
having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more most other
some such no nor not only own same so than too very s t can will just don don't should should've
now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn
hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn
shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
"""
ENGLISH_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# NLTK's names of its stopword lists, for languages other than English (corpus downloaded).
_NLTK_STOPWORD_LISTS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "id": "indonesian", "it": "italian", "nl": "dutch",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
    "tr": "turkish", "zh": "chinese",
}

# Arabic harakat: fathatan .. sukun (U+064B-U+0652) and the superscript alef (U+0670).
ARABIC_SHORT_VOWELS = frozenset(chr(c) for c in range(0x064B, 0x0653)) | {"\u0670"}
# The combining acute accent Russian dictionaries use to mark stress.
STRESS_MARK = "\u0301"


def letter_script(char: str) -> str | None:
    """The script of a letter (``"LATIN"``, ``"CYRILLIC"``, ``"CJK"``, ...); ``None`` for non-letters."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else None


def scripts_for(lang: str) -> frozenset[str]:
    """The scripts of language ``lang``; a clear error for a language without an entry."""
    try:
        return LANGUAGE_SCRIPTS[lang]
    except KeyError:
        raise ValueError(
            f"no script known for language {lang!r}; known: {', '.join(sorted(LANGUAGE_SCRIPTS))}"
        ) from None


def is_in_script(text: str, scripts: Iterable[str]) -> bool:
    """True when ``text`` has at least one letter and every letter belongs to ``scripts``."""
    allowed = frozenset(scripts)
    found = False
    for char in text:
        script = letter_script(char)
        if script is None:
            continue
        if script not in allowed:
            return False
        found = True
    return found


def drop_identical(lex: Lexicon) -> Lexicon:
    """Remove pairs whose target equals the source (case-insensitively)."""
    return _filter_pairs(lex, lambda s, t: s.casefold() != t.casefold())


def keep_target_script(lex: Lexicon, lang: str | None = None) -> Lexicon:
    """Keep targets written in the script of ``lang`` (default ``lex.tgt_lang``)."""
    scripts = scripts_for(lang or lex.tgt_lang)
    return _filter_pairs(lex, lambda s, t: is_in_script(t, scripts))


def strip_marks(text: str, *, arabic_short_vowels: bool = True, stress: bool = True) -> str:
    """Remove Arabic short vowels and/or the combining stress mark U+0301 from ``text``.

    Text is NFD-decomposed for the stress mark so a precomposed stressed vowel loses its accent,
    and recomposed (NFC) afterwards so letters like Russian ``й``/``ё`` keep their form.
    """
    if stress:
        text = unicodedata.normalize("NFD", text).replace(STRESS_MARK, "")
        text = unicodedata.normalize("NFC", text)
    if arabic_short_vowels:
        text = "".join(c for c in text if c not in ARABIC_SHORT_VOWELS)
    return text


def normalize_marks(lex: Lexicon, *, arabic_short_vowels: bool = True, stress: bool = True) -> Lexicon:
    """Apply :func:`strip_marks` to both sides of every pair (pairs that collide are merged)."""
    out = Lexicon(lex.src_lang, lex.tgt_lang)
    for s, t in lex.pairs():
        out.add(strip_marks(s, arabic_short_vowels=arabic_short_vowels, stress=stress),
                strip_marks(t, arabic_short_vowels=arabic_short_vowels, stress=stress))
    return out


def stopwords(lang: str) -> frozenset[str]:
    """NLTK's stopword list of ``lang``: English embedded (the corpus is a separate download that
    offline machines lack), other languages from the NLTK corpus when it is installed."""
    if lang == "en":
        return ENGLISH_STOPWORDS
    name = _NLTK_STOPWORD_LISTS.get(lang)
    if name is None:
        known = ", ".join(["en", *sorted(_NLTK_STOPWORD_LISTS)])
        raise ValueError(f"no stopword list for language {lang!r}; known: {known}")
    try:
        from nltk.corpus import stopwords as corpus

        return frozenset(corpus.words(name))
    except LookupError:
        raise ValueError(f"the NLTK stopword corpus is not installed (nltk.download('stopwords')), so "
                         f"there is no stopword list for {lang!r}; only English is built in") from None


def has_word_frequencies(lang: str) -> bool:
    """Whether ``wordfreq`` has a word list for ``lang`` (it has none for Thai, for example)."""
    import wordfreq

    return lang in wordfreq.available_languages()


def frequent_words(lang: str, k: int) -> list[str]:
    """The ``k`` most frequent words of ``lang`` according to ``wordfreq``, most frequent first.

    Raises ``ValueError`` naming the language when ``wordfreq`` has no list for it.
    """
    import wordfreq

    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    try:
        words = wordfreq.top_n_list(lang, k)
    except LookupError:  # wordfreq's own message names a wordlist, not what to do
        words = []
    if not words:
        raise ValueError(f"wordfreq has no word list for language {lang!r}")
    return words


def keep_frequent_sources(lex: Lexicon, k: int, lang: str | None = None) -> Lexicon:
    """Keep single-word sources among the ``k`` most frequent words of ``lang`` (default
    ``lex.src_lang``) and phrases whose every word is among them; the result follows frequency
    order for single words."""
    top = frequent_words(lang or lex.src_lang, k)
    allowed = set(top)
    out = Lexicon(lex.src_lang, lex.tgt_lang)
    for word in top:
        if word in lex.entries:
            out.entries[word] = list(lex.entries[word])
    for src, targets in lex.entries.items():
        if " " in src and all(w in allowed for w in src.split(" ")):
            out.entries[src] = list(targets)
    return out


def cap_candidates(lex: Lexicon, max_candidates: int) -> Lexicon:
    """Keep at most the first ``max_candidates`` targets per source."""
    check_cap("max_candidates", max_candidates)
    return Lexicon(lex.src_lang, lex.tgt_lang,
                   {s: ts[:max_candidates] for s, ts in lex.entries.items()})


def _filter_pairs(lex: Lexicon, keep: Callable[[str, str], bool]) -> Lexicon:
    out = Lexicon(lex.src_lang, lex.tgt_lang)
    for src, targets in lex.entries.items():
        kept = [t for t in targets if keep(src, t)]
        if kept:
            out.entries[src] = kept
    return out


def shuffle_translations(lex: Lexicon, seed: int | None = None) -> Lexicon:
    """A control lexicon with the right script and token statistics but the wrong meanings: the
    candidate lists are permuted across the source entries (a seeded permutation within each source
    length in words, so phrases stay phrases), every target word is kept exactly as often, and a
    source almost never keeps its own translations. ``seed`` defaults to one derived from the
    language pair, so the control lexicon is one fixed object, whatever the training seed."""
    if seed is None:
        seed = int.from_bytes(hashlib.blake2b(f"{lex.src_lang}-{lex.tgt_lang}".encode(),
                                              digest_size=4).digest(), "little")
    rng = np.random.default_rng(seed)
    by_length: dict[int, list[str]] = {}
    for source in sorted(lex.entries):
        by_length.setdefault(source.count(" ") + 1, []).append(source)
    shuffled: dict[str, list[str]] = {}
    for sources in by_length.values():
        order = rng.permutation(len(sources))
        for source, donor in zip(sources, order, strict=True):
            shuffled[source] = list(lex.entries[sources[donor]])
    return Lexicon(lex.src_lang, lex.tgt_lang, {s: shuffled[s] for s in lex.entries}, lex.skipped_lines)
