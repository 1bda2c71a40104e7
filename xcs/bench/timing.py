"""The benchmarks' one timer, and the optional libraries they compare against."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from types import ModuleType


def best_seconds(fn: Callable[[], object], min_seconds: float = 0.0,
                 min_repeats: int = 3) -> tuple[float, float]:
    """Best wall time and best process CPU time of ``fn`` over at least ``min_repeats`` calls and
    ``min_seconds`` in total, after one warm-up call (Numba compilation, caches, page faults). The
    CPU time leaves out the time other processes hold this core."""
    fn()
    best_wall, best_cpu, spent, calls = float("inf"), float("inf"), 0.0, 0
    while calls < max(1, min_repeats) or spent < min_seconds:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
        spent, calls = spent + wall, calls + 1
    return best_wall, best_cpu


def require(benchmark: str, *modules: str) -> list[ModuleType]:
    """Import the libraries ``benchmark`` compares against (not dependencies of xcs itself); an
    ImportError naming them and the extra that installs them (``pip install 'xcs[bench]'``)."""
    loaded, missing = [], []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(f"xcs bench {benchmark} compares against {', '.join(missing)}, which is not "
                          "installed: pip install 'xcs[bench]'")
    return loaded
