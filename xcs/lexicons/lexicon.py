"""Bilingual lexicons: source word (or phrase) -> candidate translations.

A :class:`Lexicon` is the string-level dictionary that every source (MUSE / TSV files, Wikipedia
titles, embedding induction, pivoting) produces. It is compiled for one tokenizer into flat
token-ID arrays before code-switching (:meth:`xcs.switching.compiled_lexicon.CompiledLexicon.compile`).
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xcs.io.atomic import atomic_path


class LexiconFormatError(ValueError):
    """A dictionary line could not be parsed; the message names the file and line."""


def check_cap(name: str, value: int | None) -> None:
    """A ValueError naming the argument ``name`` unless ``value`` is None or an integer >= 1 (a cap
    on candidates per source); every builder that takes a cap checks it here."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be an integer >= 1 or None, got {value!r}")


@dataclass
class Lexicon:
    """A bilingual lexicon ``src_lang -> tgt_lang``.

    ``entries`` maps a source word or phrase (words separated by single spaces) to its candidate
    translations in insertion order, without duplicates. ``skipped_lines`` counts malformed lines
    that ``load(..., on_error="skip")`` left out.
    """

    src_lang: str
    tgt_lang: str
    entries: dict[str, list[str]] = field(default_factory=dict)
    skipped_lines: int = 0

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[tuple[str, str]],
        src_lang: str,
        tgt_lang: str,
        *,
        lowercase: bool = False,
        drop_identical: bool = False,
        max_candidates: int | None = None,
    ) -> Lexicon:
        """Build a lexicon from ``(source, target)`` pairs, applying the basic filters."""
        check_cap("max_candidates", max_candidates)
        lex = cls(src_lang, tgt_lang)
        for src, tgt in pairs:
            lex.add(src, tgt, lowercase=lowercase, drop_identical=drop_identical,
                    max_candidates=max_candidates)
        return lex

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]], src_lang: str, tgt_lang: str) -> Lexicon:
        """Build a lexicon from ``{source: [target, ...]}``, pair by pair as :meth:`add` (targets
        kept in order, whitespace normalised, duplicates dropped; none of the optional filters)."""
        return cls.from_pairs(((s, t) for s, ts in mapping.items() for t in ts), src_lang, tgt_lang)

    def add(
        self,
        source: str,
        target: str,
        *,
        lowercase: bool = False,
        drop_identical: bool = False,
        max_candidates: int | None = None,
    ) -> None:
        """Add one pair; whitespace inside a phrase is normalised to single spaces. ``max_candidates``
        is not checked per pair: the builders check it once (:func:`check_cap`)."""
        source = " ".join(source.split())
        target = " ".join(target.split())
        if lowercase:
            source, target = source.lower(), target.lower()
        if not source or not target or (drop_identical and source == target):
            return
        candidates = self.entries.setdefault(source, [])
        if target in candidates:
            return
        if max_candidates is None or len(candidates) < max_candidates:
            candidates.append(target)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        src_lang: str,
        tgt_lang: str,
        *,
        lowercase: bool = False,
        drop_identical: bool = False,
        max_candidates: int | None = None,
        on_error: str = "raise",
    ) -> Lexicon:
        """Read a MUSE / TSV dictionary: ``source<TAB>target`` or ``source target`` per line.

        Several lines may share a source word. Files ending in ``.gz`` are decompressed. Blank
        lines are ignored. A line that is not exactly two fields raises
        :class:`LexiconFormatError` naming ``path:line`` (``on_error="raise"``), or is skipped
        and counted in ``skipped_lines`` (``on_error="skip"``). Bytes that are not UTF-8 raise
        :class:`LexiconFormatError` naming the line.
        """
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        check_cap("max_candidates", max_candidates)
        lex = cls(src_lang, tgt_lang)
        for lineno, fields in _read_pairs(Path(path)):
            if fields is None:
                if on_error == "raise":
                    raise LexiconFormatError(
                        f"{path}:{lineno}: expected 'source<TAB>target' or 'source target'"
                    )
                lex.skipped_lines += 1
                continue
            lex.add(fields[0], fields[1], lowercase=lowercase, drop_identical=drop_identical,
                    max_candidates=max_candidates)
        if lex.skipped_lines and lex.skipped_lines >= len(lex):
            warnings.warn(f"{path}: {lex.skipped_lines} malformed line(s) skipped, {len(lex)} entries kept: "
                          "is this a 'source<TAB>target' file?", stacklevel=2)
        return lex

    # ------------------------------------------------------------------ output / views
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``source<TAB>target`` lines (gzip if the name ends in ``.gz``), atomically."""
        path = Path(path)
        opener = gzip.open if path.suffix == ".gz" else open
        with atomic_path(path) as tmp, opener(tmp, "wt", encoding="utf-8") as out:
            for pair in self.pairs():
                out.write("\t".join(pair) + "\n")

    def pairs(self) -> Iterator[tuple[str, str]]:
        """Every ``(source, target)`` pair, sources in insertion order, each source's targets in order."""
        for src, targets in self.entries.items():
            for tgt in targets:
                yield src, tgt

    @property
    def max_ngram(self) -> int:
        """Longest source entry in words (1 for word lexicons, up to 3 for title lexicons)."""
        return max((len(src.split(" ")) for src in self.entries), default=1)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, source: object) -> bool:
        return source in self.entries

    def __getitem__(self, source: str) -> list[str]:
        return self.entries[source]


def _read_pairs(path: Path) -> Iterator[tuple[int, tuple[str, str] | None]]:
    """Yield ``(line_number, (source, target) or None if malformed)`` for non-blank lines; a UTF-8
    byte-order mark before the first line is dropped (it would stick to the first key)."""
    try:
        yield from _parse_lines(path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # a corrupt or truncated .gz
        raise LexiconFormatError(f"{path}: not a readable gzip file ({type(exc).__name__}: {exc})") from None
    except IsADirectoryError:
        raise LexiconFormatError(f"{path} is a directory, not a lexicon file") from None


def _parse_lines(path: Path) -> Iterator[tuple[int, tuple[str, str] | None]]:
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as fh:
        for lineno, line_bytes in enumerate(fh, start=1):
            try:
                line = line_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LexiconFormatError(
                    f"{path}:{lineno}: not valid UTF-8 ({exc.reason} at byte {exc.start})"
                ) from None
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t") if "\t" in line else line.split(" ")
            fields = [f.strip() for f in fields]
            if len(fields) != 2 or not fields[0] or not fields[1]:
                yield lineno, None
            else:
                yield lineno, (fields[0], fields[1])
