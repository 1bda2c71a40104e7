"""Renamed arguments keep working for a while, with a warning (a module below every stage)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


def renamed_keywords(renamed: Mapping[str, str]) -> Callable[[_F], _F]:
    """Decorator: keyword ``old`` is passed on as ``renamed[old]`` with a ``DeprecationWarning``
    naming both; giving both is a ``TypeError``."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{function.__qualname__}() got both {old!r} and its new name "
                                        f"{new!r}")
                    warnings.warn(f"{function.__qualname__}(): {old!r} is renamed {new!r}; the old name will "
                                  "be removed", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
