"""A user's own training pairs: JSON Lines, TSV, CSV (each optionally gzipped) or a saved ``datasets``
directory, read into :class:`xcs.data.pairs.TrainPair` (what ``xcs train --train-file`` trains on).

Every row needs a query and a positive column (non-empty text) and may name hard negatives in
``negative_columns``: each such column holds one text, or (JSON Lines, ``datasets``) a list of texts;
every row must then give the same number of negatives. Nothing is coerced: a missing column, a value
that is not text (``null`` / ``None`` included), an empty text, a malformed line or an empty file is a
``ValueError`` naming the file and the 1-based line (JSON Lines, TSV, CSV) or the 0-based row index
(``datasets``).

TSV is read literally (no quoting: a field cannot hold a tab or a line break); CSV follows RFC 4180
(double-quoted fields, ``""`` for a quote), strictly. Both need a header row naming the columns.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from xcs.data.pairs import TrainPair

PAIRS_FILE_FORMATS = ("jsonl", "tsv", "csv", "datasets")
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".tsv": "tsv", ".csv": "csv"}
_GZIP_MAGIC = b"\x1f\x8b"

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
    split: str = "train",
) -> list[TrainPair]:
    """Every row of ``path`` as a ``TrainPair(query, positive, negatives=...)``, in file order.

    ``format`` is one of :data:`PAIRS_FILE_FORMATS` (default: :func:`detect_format`); gzip is
    recognised by its magic bytes. ``split`` picks the split of a saved ``DatasetDict`` (a saved
    ``Dataset`` has none). Raises ``FileNotFoundError`` for a missing path and ``ValueError`` naming
    the file and line / row for anything else wrong.
    """
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
    builder = _PairBuilder(query_column, positive_column, tuple(negative_columns))
    if format == "datasets":
        rows = _dataset_rows(path, builder.columns, split)
    elif format == "jsonl":
        rows = _jsonl_rows(path, builder.columns)
    else:
        rows = _delimited_rows(path, builder.columns, "\t" if format == "tsv" else ",")
    try:
        pairs = [builder(where, row) for where, row in rows]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from exc
    if not pairs:
        raise ValueError(f"{path}: no training pairs in it (empty, or a header without rows)")
    return pairs


def subsample(items: Sequence[_T], limit: int | None, seed: int = 0) -> list[_T]:
    """A seeded random subset of ``limit`` items, in their original order (all of them when ``limit``
    is ``None`` or not smaller than their number): ``max_pairs`` of ``xcs train`` and of the
    experiment's SQuAD pairs."""
    if not limit or limit >= len(items):
        return list(items)
    keep = np.sort(np.random.default_rng(seed).choice(len(items), size=int(limit), replace=False))
    return [items[i] for i in keep]


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


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    """``path`` as UTF-8 text (a leading BOM dropped), decompressed if it is gzip; newlines untranslated."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    opener = gzip.open if gzipped else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as stream:
        yield stream


def _jsonl_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, object)`` per non-blank line of a JSON Lines file."""
    with _open_text(path) as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: malformed JSON ({exc.msg}, column {exc.colno}); a JSON Lines "
                                 f"file holds one object per line") from exc
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object, got {_describe(row)}")
            _check_columns(list(row), columns, where)
            yield where, row


def _delimited_rows(path: Path, columns: Sequence[str], delimiter: str
                    ) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, header -> field)`` per record of a TSV (no quoting) or CSV (RFC 4180) file with a
    header row; ``where`` names the line the record starts on."""
    kind, quoting = ("TSV", csv.QUOTE_NONE) if delimiter == "\t" else ("CSV", csv.QUOTE_MINIMAL)
    with _open_text(path) as stream:
        reader = csv.reader(stream, delimiter=delimiter, quoting=quoting, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            duplicated = sorted({c for c in header if header.count(c) > 1})
            if duplicated:
                raise ValueError(f"{path}, line 1: column(s) {duplicated} named twice in the header")
            _check_columns(header, columns, str(path))
            start = reader.line_num + 1
            for record in reader:
                where, start = f"{path}, line {start}", reader.line_num + 1
                if not record:  # a blank line
                    continue
                if len(record) != len(header):
                    raise ValueError(f"{where}: {len(record)} field(s), the header has {len(header)}")
                yield where, dict(zip(header, record, strict=True))
        except csv.Error as exc:
            raise ValueError(f"{path}, line {reader.line_num}: malformed {kind} ({exc})") from exc


def _dataset_rows(path: Path, columns: Sequence[str], split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, column -> value)`` per row of a directory written by ``Dataset.save_to_disk`` (or split
    ``split`` of a ``DatasetDict``'s)."""
    try:
        import datasets
    except ImportError as exc:
        raise ValueError(f"{path}: reading a saved datasets directory needs the 'datasets' package") from exc
    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: not a directory written by Dataset.save_to_disk ({exc})") from exc
    name = str(path)
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ValueError(f"{path}: no split {split!r} in this DatasetDict (splits: {list(loaded)}); "
                             f"choose one with split= / --train-split")
        loaded, name = loaded[split], f"{path} [split {split!r}]"
    _check_columns(loaded.column_names, columns, name)
    index = 0
    for batch in loaded.select_columns(list(dict.fromkeys(columns))).iter(batch_size=1024):
        for values in zip(*(batch[c] for c in batch), strict=True):
            yield f"{name}, row {index} (0-based)", dict(zip(batch, values, strict=True))
            index += 1
