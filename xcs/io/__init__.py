"""Files and places: atomic writes (:mod:`xcs.io.atomic`) and the data / cache directories
(:mod:`xcs.io.paths`)."""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "atomic_path": "xcs.io.atomic",
    "write_json_atomic": "xcs.io.atomic",
    "write_text_atomic": "xcs.io.atomic",
    "cache_dir": "xcs.io.paths",
    "data_dir": "xcs.io.paths",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
