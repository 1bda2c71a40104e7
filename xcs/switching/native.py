"""The C++ core, ``xcs._native`` (``csrc/``), and the check that it is the build this package expects."""

from __future__ import annotations

from types import ModuleType

# xcs._native.abi_version() of the C++ core this package is written for (csrc/core/compiled_lexicon.cpp)
NATIVE_ABI_VERSION = 3


def native_module() -> ModuleType | None:
    """``xcs._native``, or None when the extension is not built.

    Raises:
        ImportError: the extension is built but stale (its ``abi_version()`` is not
            :data:`NATIVE_ABI_VERSION`): calling it could misread arguments, so rebuild it.
    """
    try:
        from xcs import _native
    except ImportError:
        return None
    found = _native.abi_version()
    if found != NATIVE_ABI_VERSION:
        raise ImportError(f"xcs._native ({_native.__file__}) has ABI version {found}, this xcs expects "
                          f"{NATIVE_ABI_VERSION}: rebuild the extension (pip install -e .)")
    return _native
