"""The software a record was produced with: every run record (``run.json``, ``metrics.json``,
``run_info.json``, ``train_log.json``, the benchmark reports) stores :func:`versions` under the key
``"environment"``, so that a result can be traced to the locked environment (``requirements/lock.txt``)
that made it.

Versions come from the installed distributions' metadata (or from the module itself when it is
already imported), so asking for them imports nothing heavy. A package that is not installed (triton
off Linux x86-64) is recorded as ``None``.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

# record key -> distribution name
PACKAGES: dict[str, str] = {
    "torch": "torch",
    "transformers": "transformers",
    "triton": "triton",
    "numpy": "numpy",
    "xcs": "xcs",
}


def _version(module: str, distribution: str) -> str | None:
    loaded = sys.modules.get(module)
    version = getattr(loaded, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """``{"python", "torch", "transformers", "triton", "numpy", "xcs"}`` -> version string (``None``
    when the package is not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for key, distribution in PACKAGES.items():
        out[key] = _version(key, distribution)
    if out["xcs"] is None:  # a source tree on sys.path without an install
        from xcs import __version__

        out["xcs"] = __version__
    return out
