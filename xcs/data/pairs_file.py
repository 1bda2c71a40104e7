"""A user's own training pairs: JSON Lines, TSV, CSV (each optionally gzipped) or a saved ``datasets``
directory, read into :class:`xcs.data.pairs.TrainPair` (what ``xcs train --train-file`` trains on).

Every row needs a query and a positive column (non-empty text) and may name hard negatives in
``negative_columns``: each such column holds one text, or (JSON Lines, ``datasets``) a list of texts;
every row must then give the same number of negatives. Nothing is coerced: a missing column, a value
that is not text (``null`` / ``None`` included), an empty text, a malformed line or an empty file is a
``ValueError`` naming the file and the 1-based line (JSON Lines, TSV, CSV) or the 0-based row index
(``datasets``). So are a byte that is not UTF-8 (file and line), a corrupt or truncated gzip stream, a
corrupt saved dataset, a key twice in one JSON object, and options that cannot take effect: the same
column as query and positive (or as a negative), or a ``split`` for anything but a saved
``DatasetDict``.

TSV is read literally (no quoting: a field cannot hold a tab or a line break); CSV follows RFC 4180
(double-quoted fields, ``""`` for a quote), strictly: a quote inside a field that is not quoted
(``a"b``), or text after a closing quote, is an error. Both need a header row naming the columns. A
field may hold up to :data:`MAX_FIELD_CHARS` characters (Python's ``csv`` stops at 131,072 by
default); a longer one is an error saying so.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from xcs.data.pairs import TrainPair

PAIRS_FILE_FORMATS = ("jsonl", "tsv", "csv", "datasets")
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".tsv": "tsv", ".csv": "csv"}
_GZIP_MAGIC = b"\x1f\x8b"
# the longest TSV / CSV field read (characters): far beyond any text an encoder reads (128-512 tokens)
MAX_FIELD_CHARS = 1 << 24
# one CSV record as RFC 4180 writes it: fields either free of quotes, commas and line breaks, or quoted
# with "" for a quote inside
_CSV_FIELD = r'(?:[^",\r\n]*|"[^"]*(?:""[^"]*)*")'
_CSV_RECORD = re.compile(rf"{_CSV_FIELD}(?:,{_CSV_FIELD})*(?:\r\n|\n|\r)?")
_AFTER_BARE_CR = re.compile(rb"(?<=\r)(?!\n)")  # a line break of old Mac files (a byte UTF-8 never reuses)

_T = TypeVar("_T")


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of ``path`` from its suffix (``.jsonl`` / ``.json`` / ``.ndjson``, ``.tsv``, ``.csv``,
    each optionally followed by ``.gz``), or ``"datasets"`` for a directory."""
    path = Path(path)
    if path.is_dir():
        return "datasets"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    found = _SUFFIX_FORMATS.get(suffixes[-1] if suffixes else "")
    if found is None:
        raise ValueError(f"{path}: cannot tell the format from the name (known suffixes: "
                         f"{sorted(_SUFFIX_FORMATS)}, optionally + .gz, or a datasets directory); "
                         f"name it with format= / --train-format ({', '.join(PAIRS_FILE_FORMATS)})")
    return found


def load_pairs_file(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    query_column: str = "query",
    positive_column: str = "positive",
    negative_columns: Sequence[str] = (),
    split: str | None = None,
) -> list[TrainPair]:
    """Every row of ``path`` as a ``TrainPair(query, positive, negatives=...)``, in file order.

    ``format`` is one of :data:`PAIRS_FILE_FORMATS` (default: :func:`detect_format`); gzip is
    recognised by its magic bytes. ``split`` picks the split of a saved ``DatasetDict`` (default:
    ``"train"``); for anything else (a file, a saved ``Dataset``, which has no splits) it is an error,
    never ignored. Raises ``FileNotFoundError`` for a missing path and ``ValueError`` naming the file
    and line / row for anything else wrong.
    """
    path = Path(path)
    format = check_pairs_file_options(path, format=format, query_column=query_column,
                                      positive_column=positive_column, negative_columns=negative_columns,
                                      split=split)
    builder = _PairBuilder(query_column, positive_column, tuple(negative_columns))
    if format == "datasets":
        rows = _dataset_rows(path, builder.columns, split)
    elif format == "jsonl":
        rows = _jsonl_rows(path, builder.columns)
    else:
        rows = _delimited_rows(path, builder.columns, "\t" if format == "tsv" else ",")
    pairs = [builder(where, row) for where, row in rows]
    if not pairs:
        raise ValueError(f"{path}: no training pairs in it (empty, or a header without rows)")
    return pairs


def check_pairs_file_options(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    query_column: str = "query",
    positive_column: str = "positive",
    negative_columns: Sequence[str] = (),
    split: str | None = None,
) -> str:
    """The checks of :func:`load_pairs_file` that need no reading (``xcs train`` makes them before it
    creates anything): ``path`` exists and suits the format, the columns are distinct, a ``split`` is
    for a ``datasets`` directory. Returns the format."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"training file not found: {path}")
    format = format or detect_format(path)
    if format not in PAIRS_FILE_FORMATS:
        raise ValueError(f"unknown training file format {format!r}; known: {', '.join(PAIRS_FILE_FORMATS)}")
    if format == "datasets" and not path.is_dir():
        raise ValueError(f"{path}: is a file; format 'datasets' reads a directory written by save_to_disk")
    if format != "datasets" and path.is_dir():
        raise ValueError(f"{path}: is a directory; format {format!r} reads a file")
    if split is not None and format != "datasets":
        raise ValueError(f"{path}: split= / --train-split {split!r} applies to a saved DatasetDict only; "
                         f"a {format} file has no splits")
    _check_distinct_columns(query_column, positive_column, tuple(negative_columns))
    return format


def subsample(items: Sequence[_T], limit: int | None, seed: int = 0) -> list[_T]:
    """A seeded random subset of ``limit`` items, in their original order (all of them when ``limit``
    is ``None`` or not smaller than their number): ``max_pairs`` of ``xcs train`` and of the
    experiment's SQuAD pairs."""
    if not limit or limit >= len(items):
        return list(items)
    keep = np.sort(np.random.default_rng(seed).choice(len(items), size=int(limit), replace=False))
    return [items[i] for i in keep]


def _check_distinct_columns(query: str, positive: str, negatives: tuple[str, ...]) -> None:
    """One column cannot be two roles: the query as its own positive (or negative) trains nothing."""
    if query == positive:
        raise ValueError(f"query_column and positive_column (--query-column / --positive-column) are both "
                         f"{query!r}: every query would be its own positive")
    for column in dict.fromkeys(negatives):
        if column in (query, positive):
            role = "query" if column == query else "positive"
            raise ValueError(f"negative_columns (--negative-columns) names {column!r}, the {role} column: a "
                             f"pair's {role} cannot be its own hard negative")
        if negatives.count(column) > 1:
            raise ValueError(f"negative_columns (--negative-columns) names {column!r} twice")


class _PairBuilder:
    """Turns one row (a column -> value mapping) into a ``TrainPair``, checking every value and that
    each row gives as many negatives as the first."""

    def __init__(self, query: str, positive: str, negatives: tuple[str, ...]) -> None:
        self.query, self.positive, self.negatives = query, positive, negatives
        self.columns = (query, positive, *negatives)
        self.first: tuple[str, int] | None = None  # where the first row is and its number of negatives

    def __call__(self, where: str, row: Mapping[str, Any]) -> TrainPair:
        query = _text(row[self.query], self.query, where)
        positive = _text(row[self.positive], self.positive, where)
        negatives = tuple(text for column in self.negatives
                          for text in _negative_texts(row[column], column, where))
        if self.first is None:
            self.first = (where, len(negatives))
        elif len(negatives) != self.first[1]:
            raise ValueError(f"{where}: {len(negatives)} hard negative(s) in {list(self.negatives)}, but "
                             f"{self.first[0]} has {self.first[1]}; every pair needs the same number")
        return TrainPair(query, positive, negatives=negatives)


def _describe(value: Any) -> str:
    if value is None:
        return "null / None"
    shown = repr(value)
    return f"{type(value).__name__} {shown[:40] + '...' if len(shown) > 40 else shown}"


def _text(value: Any, column: str, where: str) -> str:
    """``value`` if it is a non-empty (not only blank) string, else a ``ValueError``."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: column {column!r} must hold text, got {_describe(value)}")
    if not value.strip():
        raise ValueError(f"{where}: column {column!r} is empty")
    return value


def _negative_texts(value: Any, column: str, where: str) -> list[str]:
    """A negative column's value: one text, or a list of texts."""
    if isinstance(value, (list, tuple)):
        return [_text(item, f"{column}[{j}]", where) for j, item in enumerate(value)]
    if isinstance(value, str):
        return [_text(value, column, where)]
    raise ValueError(f"{where}: column {column!r} must hold a text or a list of texts, got "
                     f"{_describe(value)}")


def _check_columns(present: Sequence[str], wanted: Sequence[str], where: str) -> None:
    missing = [c for c in dict.fromkeys(wanted) if c not in present]
    if missing:
        raise ValueError(f"{where}: no column {', '.join(map(repr, missing))} (columns present: "
                         f"{list(present)})")


def _text_lines(path: Path) -> Iterator[str]:
    r"""The lines of ``path`` as UTF-8 text (a leading BOM dropped; line ends kept, untranslated; ``\n``,
    ``\r\n`` and ``\r`` end a line, as for ``open(..., newline="")``), decompressed if it is gzip.
    Each line is decoded on its own, so a byte that is not UTF-8 is reported with its line; a corrupt
    or truncated gzip stream names the file (both ``ValueError``)."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    opener: Any = gzip.open if gzipped else open
    number = 0
    try:
        with opener(path, "rb") as stream:
            for chunk in stream:
                lines = _AFTER_BARE_CR.split(chunk) if b"\r" in chunk else [chunk]
                for line in filter(None, lines):
                    number += 1
                    yield _decoded(line, number, path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: corrupt or truncated gzip file after line {number} "
                         f"({type(exc).__name__}: {exc})") from None


def _decoded(line: bytes, number: int, path: Path) -> str:
    """Line ``number`` of ``path`` as text (the first without a BOM)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}, line {number}: not UTF-8 text (byte 0x{line[exc.start]:02x} at byte "
                         f"{exc.start + 1} of the line: {exc.reason})") from None
    return text.removeprefix("\ufeff") if number == 1 else text


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook``: an object that names a key twice is refused (``json``
    keeps the last value silently)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def _jsonl_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, object)`` per non-blank line of a JSON Lines file."""
    for number, line in enumerate(_text_lines(path), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            row = json.loads(line, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: malformed JSON ({exc.msg}, column {exc.colno}); a JSON Lines "
                             f"file holds one object per line") from exc
        except _DuplicateKey as exc:
            raise ValueError(f"{where}: key {exc.args[0]!r} appears twice in one object") from None
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a JSON object, got {_describe(row)}")
        _check_columns(list(row), columns, where)
        yield where, row


def _delimited_rows(path: Path, columns: Sequence[str], delimiter: str
                    ) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, header -> field)`` per record of a TSV (no quoting) or CSV (RFC 4180) file with a
    header row; ``where`` names the line the record starts on."""
    kind, quoting = ("TSV", csv.QUOTE_NONE) if delimiter == "\t" else ("CSV", csv.QUOTE_MINIMAL)
    raw: list[str] = []  # the lines of the record being read (CSV: checked against RFC 4180)

    def lines() -> Iterator[str]:
        for line in _text_lines(path):
            if kind == "CSV":
                raw.append(line)
            yield line

    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)  # a process-wide setting: put back below
    try:
        reader = csv.reader(lines(), delimiter=delimiter, quoting=quoting, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            if kind == "CSV":
                _check_rfc4180(raw, path, 1)
            duplicated = sorted({c for c in header if header.count(c) > 1})
            if duplicated:
                raise ValueError(f"{path}, line 1: column(s) {duplicated} named twice in the header")
            _check_columns(header, columns, str(path))
            start = reader.line_num + 1
            for record in reader:
                where, first = f"{path}, line {start}", start
                start = reader.line_num + 1
                if kind == "CSV":
                    _check_rfc4180(raw, path, first)
                if not record:  # a blank line
                    continue
                if len(record) != len(header):
                    raise ValueError(f"{where}: {len(record)} field(s), the header has {len(header)}")
                yield where, dict(zip(header, record, strict=True))
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ValueError(f"{path}, line {reader.line_num}: a field longer than {MAX_FIELD_CHARS:,} "
                                 f"characters (xcs.data.pairs_file.MAX_FIELD_CHARS), the longest {kind} "
                                 f"field read") from None
            raise ValueError(f"{path}, line {reader.line_num}: malformed {kind} ({exc})") from exc
    finally:
        csv.field_size_limit(limit)


def _check_rfc4180(raw: list[str], path: Path, first: int) -> None:
    """The lines of one CSV record (emptied afterwards) as RFC 4180 writes them: Python's reader takes
    a quote inside an unquoted field (``a"b``) literally, even with ``strict=True``."""
    text = "".join(raw)
    raw.clear()
    if not _CSV_RECORD.fullmatch(text):
        raise ValueError(f"{path}, line {first}: malformed CSV (a quote inside a field that is not quoted; "
                         f"RFC 4180 quotes such a field and doubles the quote: \"a \"\"b\"\" c\")")


def _dataset_rows(path: Path, columns: Sequence[str], split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, column -> value)`` per row of a directory written by ``Dataset.save_to_disk`` (or split
    ``split`` of a ``DatasetDict``'s)."""
    try:
        import datasets
    except ImportError as exc:
        raise ValueError(f"{path}: reading a saved datasets directory needs the 'datasets' package") from exc
    import pyarrow

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: not a directory written by Dataset.save_to_disk ({exc})") from exc
    except (OSError, ValueError, pyarrow.ArrowException) as exc:  # a corrupt Arrow or JSON file in it
        raise ValueError(f"{path}: a corrupt or truncated saved dataset ({type(exc).__name__}: "
                         f"{exc})") from None
    name = str(path)
    if isinstance(loaded, datasets.DatasetDict):
        split = "train" if split is None else split
        if split not in loaded:
            raise ValueError(f"{path}: no split {split!r} in this DatasetDict (splits: {list(loaded)}); "
                             f"choose one with split= / --train-split")
        loaded, name = loaded[split], f"{path} [split {split!r}]"
    elif split is not None:
        raise ValueError(f"{path}: split= / --train-split {split!r}: this is a saved Dataset, which has no "
                         f"splits (a saved DatasetDict has)")
    _check_columns(loaded.column_names, columns, name)
    index = 0
    batches = iter(loaded.select_columns(list(dict.fromkeys(columns))).iter(batch_size=1024))
    while True:
        try:
            batch = next(batches, None)
        except (OSError, pyarrow.ArrowException) as exc:
            raise ValueError(f"{name}: a corrupt or truncated saved dataset at row {index} "
                             f"({type(exc).__name__}: {exc})") from None
        if batch is None:
            return
        for values in zip(*(batch[c] for c in batch), strict=True):
            yield f"{name}, row {index} (0-based)", dict(zip(batch, values, strict=True))
            index += 1
