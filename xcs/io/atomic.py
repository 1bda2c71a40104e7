"""Atomic writes: a reader (or a killed run) never sees a half-written file or directory.

Every writer of results, checkpoints, lexicons, word vectors, models and plots goes through this
module. :func:`atomic_path` hands out a temporary file name next to the target (same directory, so
the final ``os.replace`` is an atomic rename on one filesystem; same suffix, so writers that pick a
format from the name — numpy's ``savez``, matplotlib's ``savefig``, gzip by ``.gz`` — write the
right one) and renames it into place only when the block succeeds. :func:`atomic_directory` does
the same for a directory (a model checkpoint): it is assembled under a temporary name and renamed
into place, an existing one moved aside first when it is to be replaced.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; it replaces ``path`` when the block
    exits normally and is removed when it raises. The temporary ``.NAME.tmpPID-TID.SUFFIX`` is
    unique per process and thread, so threads writing one file never share it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporaries :func:`atomic_path` left next to ``path`` when a writer was killed
    mid-write (``.NAME.tmpPID-TID...``) and whose process no longer runs; returns what was removed.

    A SIGKILL skips the ``finally`` that would remove them, and a checkpoint's temporary is as big as
    the checkpoint; a live writer's temporary is left alone."""
    path = Path(path)
    prefix = f".{path.name}.tmp"
    removed = []
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        if not candidate.name.startswith(prefix):
            continue
        # .NAME.tmpPID-TID.SUFFIX (and the older .NAME.tmpPID.SUFFIX)
        pid = candidate.name[len(prefix):].removesuffix(path.suffix).partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


@contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary directory next to ``path``; it becomes ``path`` when the block exits
    normally and is removed when it raises.

    Raises ``FileExistsError`` when ``path`` exists and not ``overwrite`` (checked before the block
    runs, and again by the final rename, which fails if ``path`` appeared meanwhile). With
    ``overwrite`` an existing ``path`` is renamed aside, the new one renamed in, the old one deleted.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp creates it private
        if overwrite and path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _non_finite_key(obj: Any, where: str = "") -> str | None:
    """The key path (``losses[1]``, ``clir.mrr@10``) of the first NaN or infinity in ``obj``."""
    if isinstance(obj, float):
        return None if math.isfinite(obj) else where or "(the value itself)"
    if isinstance(obj, dict):
        items: Any = ((f"{where}.{key}" if where else str(key), value) for key, value in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((f"{where}[{i}]", value) for i, value in enumerate(obj))
    else:
        return None
    for key, value in items:
        found = _non_finite_key(value, key)
        if found is not None:
            return found
    return None


def write_json_atomic(obj: Any, path: str | os.PathLike[str], *, indent: int = 2,
                      ensure_ascii: bool = True) -> None:
    """``obj`` as indented JSON (non-JSON values via ``str``), written atomically.

    Only valid JSON is written: a NaN or infinite float (which ``json`` would write as the non-JSON
    literals ``NaN`` / ``Infinity``) is a ``ValueError`` naming the file and the key, and nothing is
    written. A value that is undefined is written as ``null`` (``None``) by its caller."""
    try:
        text = json.dumps(obj, indent=indent, default=str, ensure_ascii=ensure_ascii, allow_nan=False)
    except ValueError as exc:
        key = _non_finite_key(obj)
        if key is None:
            raise
        raise ValueError(f"{path}: not written: {key} is not a finite number (JSON has no NaN or "
                         f"infinity; write null for an undefined value)") from exc
    write_text_atomic(text + "\n", path)
