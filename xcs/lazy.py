"""Lazy re-exports: a package names each public object once, and importing it stays cheap.

A subpackage's ``__init__`` maps every public name to the module that defines it and calls
:func:`attach`, which gives the package ``__getattr__`` (the module is imported on first use),
``__dir__`` and ``__all__``. So ``from xcs.loss import contrastive_loss`` works while
``import xcs.loss`` imports neither torch nor Triton (``tests/packaging/test_public_api.py`` checks
both for every package). A module below every stage, like :mod:`xcs.ragged`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]],
                                                              list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` exporting ``exports`` (public name ->
    defining module, e.g. ``{"train": "xcs.training.loop"}``)."""
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
