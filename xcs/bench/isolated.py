"""Run one benchmark case in a fresh process, so that its peak resident memory is its own."""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(queue, func, args) -> None:
    try:
        queue.put(func(*args))
    except Exception as exc:  # reported in the results rather than killing a whole sweep
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_isolated(func: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``func(*args)`` in a spawned process and return its result dict.

    ``func`` must be a module-level function (it is pickled). An exception inside it comes back as
    ``{"error": "Type: message"}`` so that one failing case does not abort a sweep.
    """
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, func, args))
    proc.start()
    result = queue.get()
    proc.join()
    return result
