"""Where xcs finds shared data, keeps its caches and writes its outputs.

Data is never shipped with the package: ``XCS_DATA_DIR`` points at a directory laid out like
``../shared/data`` (``xquad-r/``, ``tatoeba/``, ``squad/``, ``muse/``, ``xling/``). Converted model
checkpoints and other derived artefacts live under ``XCS_CACHE_DIR`` (default ``~/.cache/xcs``).
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(override: str | os.PathLike[str] | None = None, *, required: bool = True) -> Path | None:
    """Return the data directory: ``override``, else ``$XCS_DATA_DIR``, else ``../shared/data``.

    The fallback is looked up next to the current directory and next to the source checkout, so
    both ``make`` from the repository root and an installed package inside the checkout find it.
    Raises ``FileNotFoundError`` naming every place looked at when ``required`` and none exists.
    """
    candidates: list[Path] = []
    if override is not None:
        candidates.append(Path(override))
    elif os.environ.get("XCS_DATA_DIR"):
        candidates.append(Path(os.environ["XCS_DATA_DIR"]))
    else:
        candidates += [Path.cwd().parent / "shared" / "data", _REPO_ROOT.parent / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    if required:
        looked = ", ".join(str(p) for p in candidates)
        raise FileNotFoundError(
            f"xcs data directory not found (looked at: {looked}); set XCS_DATA_DIR or pass --data-dir"
        )
    return None


def cache_dir() -> Path:
    """Return (and create) the cache directory: ``$XCS_CACHE_DIR`` or ``~/.cache/xcs``."""
    path = Path(os.environ.get("XCS_CACHE_DIR") or Path.home() / ".cache" / "xcs")
    path.mkdir(parents=True, exist_ok=True)
    return path


def output_directory(path: str | os.PathLike[str], option: str) -> Path:
    """``path`` as an output directory, created and checked writable *before* any work, so a bad
    ``option`` (``--out``, ``--results-dir``) fails in a second rather than after the run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".xcs-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{option} {path} is not a writable directory ({exc.strerror or exc})") from None
    return path


def output_file(path: str | os.PathLike[str], option: str) -> Path:
    """``path`` as an output file: not a directory, in a writable directory (checked before work)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory; give a file name")
    output_directory(path.parent if str(path.parent) else Path("."), f"{option}'s directory")
    return path


def read_json(path: str | os.PathLike[str], what: str) -> object:
    """The JSON in ``path``; a missing, unreadable or corrupt file is an error naming ``what`` and
    the path (``what`` says what the file is, e.g. "run record")."""
    import json

    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} {path} is unreadable or corrupt ({exc}); delete it to redo that "
                         "step") from None
