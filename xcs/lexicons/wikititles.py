"""Parallel Wikipedia titles (linguatools ``wikititles-2014_<l1><l2>.xml[.gz]``) as a phrase lexicon.

Upstream schema (one ``<translation>`` per interlanguage-linked article pair)::

    <translation id="17">
      <entry lang="en">Mercury (planet)</entry>
      <entry lang="de">Merkur (Planet)</entry>
      <redirects lang="en"><redirect>...</redirect>...</redirects>      (optional)
      <textlinks lang="en"><textlink>...</textlink>...</textlinks>      (optional)
      <categories lang="en"><category>...</category>...</categories>    (optional)
    </translation>

Titles are cleaned the way the paper describes (Wiki-CS): lowercased, a namespace prefix such as
``Category:`` cut, parenthesised qualifiers removed, only titles of up to ``max_words`` words kept,
and English stopwords dropped as single-word source entries. :func:`clean_title` and
:func:`phrase_lexicon` are that cleaning; other phrase sources (:mod:`xcs.lexicons.cldr`) share them.
"""

from __future__ import annotations

import gzip
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

from xcs.lexicons.filters import ENGLISH_STOPWORDS
from xcs.lexicons.lexicon import Lexicon, LexiconFormatError

# A namespace prefix: a run of non-space characters, a colon, and the page name right after it
# ("Category:Physics", "Kategorie:Physik"). Titles such as "Star Trek: Voyager" have a space after
# the colon (or before it) and are left alone.
_NAMESPACE = re.compile(r"^[^\s:]+:(?=\S)")
# Parenthesised qualifiers, ASCII and full-width: "Mercury (planet)", "水星 （行星）".
_QUALIFIER = re.compile(r"\s*[(（][^()（）]*[)）]")
_FILE_NAME = re.compile(r"wikititles-\d+_([a-z]{2})([a-z]{2})\.xml(\.gz)?$")


def languages_from_name(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``("en", "de")`` for ``.../wikititles-2014_ende.xml.gz``; ValueError for another name."""
    match = _FILE_NAME.search(Path(path).name)
    if match is None:
        raise ValueError(
            f"{path}: cannot infer the languages; expected a name like wikititles-2014_ende.xml.gz "
            "(or pass the languages explicitly)"
        )
    return match.group(1), match.group(2)


def clean_title(title: str) -> str:
    """Lowercase, cut a namespace prefix and parenthesised qualifiers, normalise whitespace."""
    title = _NAMESPACE.sub("", title.strip())
    title = _QUALIFIER.sub("", title)
    return " ".join(title.lower().split())


def iter_title_pairs(
    path: str | os.PathLike[str],
    src_lang: str,
    tgt_lang: str,
    *,
    include_redirects: bool = False,
) -> Iterator[tuple[str, str]]:
    """Stream the raw ``(source title, target title)`` pairs of a linguatools file.

    With ``include_redirects`` every redirect of either side is paired like the title (as the
    upstream ``xml2moses.pl -include-redirects`` does). Malformed XML raises
    :class:`~xcs.lexicons.lexicon.LexiconFormatError` naming the file and line.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        parser = ET.iterparse(fh, events=("end",))
        try:
            for _, elem in parser:
                if elem.tag != "translation":
                    continue
                sources = _titles(elem, src_lang, include_redirects)
                targets = _titles(elem, tgt_lang, include_redirects)
                for s in sources:
                    for t in targets:
                        yield s, t
                elem.clear()  # keep memory flat on multi-million-entry files
        except ET.ParseError as exc:
            line, column = exc.position
            raise LexiconFormatError(f"{path}:{line}:{column}: malformed XML ({exc.msg})") from None
        except (EOFError, OSError) as exc:
            raise LexiconFormatError(f"{path}: unreadable ({exc})") from None


def read_wikititles(
    path: str | os.PathLike[str],
    src_lang: str | None = None,
    tgt_lang: str | None = None,
    *,
    max_words: int = 3,
    include_redirects: bool = False,
    stopwords: frozenset[str] | None = None,
    drop_identical: bool = False,
) -> Lexicon:
    """Build the Wiki-CS phrase lexicon ``src_lang -> tgt_lang`` from a linguatools title file.

    Languages default to those in the file name; the pairs are cleaned and filtered by
    :func:`phrase_lexicon`. The file may list the languages in either order.
    """
    if src_lang is None or tgt_lang is None:
        first, second = languages_from_name(path)
        src_lang = src_lang or first
        tgt_lang = tgt_lang or (second if src_lang == first else first)
    pairs = iter_title_pairs(path, src_lang, tgt_lang, include_redirects=include_redirects)
    return phrase_lexicon(pairs, src_lang, tgt_lang, max_words=max_words, stopwords=stopwords,
                          drop_identical=drop_identical)


def phrase_lexicon(
    pairs: Iterable[tuple[str, str]],
    src_lang: str,
    tgt_lang: str,
    *,
    max_words: int = 3,
    stopwords: frozenset[str] | None = None,
    drop_identical: bool = False,
) -> Lexicon:
    """The Wiki-CS phrase lexicon of raw ``(source name, target name)`` pairs.

    Both sides are cleaned with :func:`clean_title`; pairs where either side is empty or longer
    than ``max_words`` words are skipped, and so are single-word sources in ``stopwords`` (default:
    :data:`ENGLISH_STOPWORDS` when the source is English, none otherwise).
    """
    if max_words < 1:
        raise ValueError(f"max_words must be positive, got {max_words}")
    if stopwords is None:
        stopwords = ENGLISH_STOPWORDS if src_lang == "en" else frozenset()
    lex = Lexicon(src_lang, tgt_lang)
    for raw_src, raw_tgt in pairs:
        src, tgt = clean_title(raw_src), clean_title(raw_tgt)
        if not src or not tgt:
            continue
        n_src = src.count(" ") + 1
        if n_src > max_words or tgt.count(" ") + 1 > max_words:
            continue
        if n_src == 1 and src in stopwords:
            continue
        lex.add(src, tgt, drop_identical=drop_identical)
    return lex


def _titles(translation: ET.Element, lang: str, include_redirects: bool) -> list[str]:
    titles = [e.text for e in translation.findall("entry") if e.get("lang") == lang and e.text]
    if include_redirects:
        for group in translation.findall("redirects"):
            if group.get("lang") == lang:
                titles += [r.text for r in group.findall("redirect") if r.text]
    return titles
