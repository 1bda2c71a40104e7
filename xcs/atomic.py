"""Atomic file writes: a reader (or a killed run) never sees a half-written file.

Every writer of results, checkpoints, lexicons and plots goes through :func:`atomic_path`: it hands
out a temporary name next to the target (same directory, so the final ``os.replace`` is an atomic
rename on one filesystem; same suffix, so writers that pick a format from the name — numpy's
``savez``, matplotlib's ``savefig``, gzip by ``.gz`` — write the right one) and renames it into
place only when the block succeeds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; it replaces ``path`` when the block
    exits normally and is removed when it raises."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(obj: Any, path: str | os.PathLike[str]) -> None:
    """``obj`` as indented JSON (non-JSON values via ``str``), written atomically."""
    write_text_atomic(json.dumps(obj, indent=2, default=str) + "\n", path)
