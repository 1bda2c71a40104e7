"""Word vectors in the fastText / MUSE ``.vec`` text format, read as a stream.

The format: a header line ``<count> <dim>``, then one line per word, ``word v1 ... v_dim``
separated by single spaces (fastText writes a trailing space). Words are kept in file order, which
for fastText and MUSE files is descending frequency, so ``max_words`` keeps the most frequent ones.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xcs.io.atomic import atomic_path


class VectorFormatError(ValueError):
    """A ``.vec`` file is malformed; the message names the file and the line."""


@dataclass
class WordVectors:
    """An embedding table.

    ``words[i]`` is the word whose vector is ``vectors[i]``; ``vectors`` is ``float32 (n, dim)``.
    """

    words: list[str]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(
                f"vectors must be (len(words), dim) = ({len(self.words)}, dim), got {self.vectors.shape}"
            )
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        self._index: dict[str, int] | None = None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def index(self) -> dict[str, int]:
        """word -> row (the first row when a word occurs twice)."""
        if self._index is None:
            index: dict[str, int] = {}
            for i, word in enumerate(self.words):
                index.setdefault(word, i)
            self._index = index
        return self._index

    def __len__(self) -> int:
        return len(self.words)

    def normalized(self) -> WordVectors:
        """A copy with unit-length rows (zero rows stay zero)."""
        return WordVectors(list(self.words), normalize_rows(self.vectors))


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """``float32 (n, d)`` rows scaled to unit L2 norm; all-zero rows are left at zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, np.float32(1e-12))


def read_vec(
    path: str | os.PathLike[str],
    *,
    max_words: int | None = None,
    lowercase: bool = False,
    progress: bool = False,
) -> WordVectors:
    """Read a ``.vec`` (or ``.vec.gz``) file, stopping after ``max_words`` distinct words.

    Duplicate words (also those created by ``lowercase``) keep their first, most frequent vector.
    Raises :class:`VectorFormatError` naming ``path:line`` for a header that is not two positive
    integers, a line whose number of values differs from the header's dimension (e.g. a truncated
    last line), a value that is not a number, or bytes that are not UTF-8.
    """
    if max_words is not None and max_words < 1:
        raise ValueError(f"max_words must be positive, got {max_words}")
    path = Path(path)
    lines = _lines(path)
    try:
        header = next(lines)
    except StopIteration:
        raise VectorFormatError(f"{path}:1: empty file, expected a '<count> <dim>' header") from None
    count, dim = _parse_header(path, header)
    limit = count if max_words is None else min(count, max_words)
    words: list[str] = []
    seen: set[str] = set()
    rows = np.empty((limit, dim), dtype=np.float32)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=limit, desc=f"read {path.name}", unit="word")
    for lineno, text in lines:
        if len(words) >= limit:
            break
        fields = text.rstrip(" \r\n").split(" ")
        if len(fields) != dim + 1:
            raise VectorFormatError(
                f"{path}:{lineno}: expected a word and {dim} values, got {len(fields) - 1} values"
                + (" (truncated line?)" if len(fields) - 1 < dim else "")
            )
        word = fields[0].lower() if lowercase else fields[0]
        if not word or word in seen:
            continue
        try:
            rows[len(words)] = np.asarray(fields[1:], dtype=np.float32)
        except ValueError:
            raise VectorFormatError(f"{path}:{lineno}: a value of {word!r} is not a number") from None
        seen.add(word)
        words.append(word)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return WordVectors(words, rows[: len(words)])


def write_vec(path: str | os.PathLike[str], vectors: WordVectors, *, precision: int = 5) -> None:
    """Write ``vectors`` in the ``.vec`` format (gzip for ``.gz``), atomically."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with atomic_path(path) as tmp, opener(tmp, "wt", encoding="utf-8") as out:
        out.write(f"{len(vectors)} {vectors.dim}\n")
        for word, row in zip(vectors.words, vectors.vectors, strict=True):
            if not word or any(c.isspace() for c in word):
                raise ValueError(f"cannot write word {word!r}: .vec words must be non-empty, no spaces")
            out.write(word + " " + " ".join(f"{v:.{precision}f}" for v in row) + "\n")


def subset(vectors: WordVectors, words: Sequence[str]) -> WordVectors:
    """The rows of ``words`` that ``vectors`` has, in the order given."""
    rows = [vectors.index[w] for w in words if w in vectors.index]
    return WordVectors([vectors.words[i] for i in rows], vectors.vectors[rows])


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)``; non-UTF-8 bytes raise :class:`VectorFormatError`."""
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                yield lineno, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise VectorFormatError(
                    f"{path}:{lineno}: not valid UTF-8 ({exc.reason} at byte {exc.start})"
                ) from None


def _parse_header(path: Path, header: tuple[int, str]) -> tuple[int, int]:
    lineno, text = header
    fields = text.split()
    try:
        count, dim = (int(f) for f in fields)
    except ValueError:
        count = dim = -1
    if count < 1 or dim < 1 or len(fields) != 2:
        raise VectorFormatError(
            f"{path}:{lineno}: expected a '<count> <dim>' header of two positive integers, "
            f"got {text.strip()[:60]!r}"
        )
    return count, dim
