"""The suite's vocabulary, importable without numpy or Numba: task names, their aliases and the CLIR
pairs the paper reports next to the averages."""

from __future__ import annotations

from collections.abc import Iterable

ALL_TASKS = ("lareqa", "moir", "clir", "mlir", "tatoeba")
# tasks run only when named: code-switched queries (xcs.evaluation.mixed_queries)
EXTRA_TASKS = ("cs-queries",)


TASK_ALIASES = {"xquadr": ("moir", "clir", "mlir")}


def resolve_tasks(tasks: str | Iterable[str]) -> list[str]:
    """Expand ``"lareqa,xquadr,tatoeba"`` (or a list) into task names in canonical order."""
    names = [t.strip() for t in tasks.split(",")] if isinstance(tasks, str) else [str(t) for t in tasks]
    wanted: set[str] = set()
    for name in names:
        if not name:
            continue
        if name in TASK_ALIASES:
            wanted.update(TASK_ALIASES[name])
        elif name in ALL_TASKS + EXTRA_TASKS:
            wanted.add(name)
        else:
            known = ", ".join(ALL_TASKS + EXTRA_TASKS + tuple(TASK_ALIASES))
            raise ValueError(f"unknown task {name!r}; choose from {known}")
    if not wanted:
        raise ValueError("no tasks given")
    return [t for t in ALL_TASKS + EXTRA_TASKS if t in wanted]


# The CLIR pairs the paper reports next to the averages.
PAPER_PAIRS = ("en-de", "en-ar", "en-ru", "de-ru", "ar-ru", "ar-de")
