"""Where xcs finds shared data and keeps its caches.

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
