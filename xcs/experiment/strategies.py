"""The experiment's strategies: what each kind of row is, defined once.

A :class:`Strategy` owns its traits (does it train, read the training pairs, code-switch, need
languages or the baseline's model, depend on the seed, run after its base), the
:class:`~xcs.experiment.methods.Method` options only it reads, and its ``run``: from a
:class:`~xcs.experiment.runs.RunContext` to the encoder the suite evaluates (or ``None`` when the
strategy writes its own result, as the reranker does). The config loader, the runner, the summary
and the footprint ask the strategy (:func:`xcs.experiment.methods.strategy_of`); none compares
strategy names. :func:`register` adds one (a test adds a toy strategy in one place and runs an
experiment with it). This module imports nothing of the experiment: the built-in strategies name
their run functions (:mod:`xcs.experiment.runs`), which are imported when first run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Strategy:
    """One kind of row. ``options``: the Method fields only this strategy reads (set for another, a
    config is refused: the same model would run under two names)."""

    name: str
    # RunContext -> the encoder to evaluate (None: run() wrote its own result); a callable, or
    # "module:function" for one imported when first run (the built-ins live in xcs.experiment.runs,
    # which imports the config: naming them keeps this registry below the config and the methods)
    run: Callable[[Any], Any] | str
    trains: bool = False  # fine-tunes a dual encoder on the training pairs
    reads_pairs: bool = False  # needs the training pairs (a trainer, or the reranker)
    switches: bool = False  # code-switches its training texts: the switcher options and lexicons apply
    needs_languages: bool = False  # 'languages' must be set
    per_side_languages: bool = False  # ... or, instead, 'query_languages' / 'document_languages'
    reverse_lexicons: bool = False  # reads XX-en lexicons (translate-test) instead of en-XX
    needs_baseline_model: bool = False  # reuses the baseline's trained model of the same seed
    seed_independent: bool = False  # evaluated once: the result does not depend on the seed
    interpolates: bool = False  # needs its ``base``'s model: runs after the others
    writes_own_result: bool = False  # run() writes its result file (rerank.json) and returns None
    footprint_covered: bool = True  # xcs.experiment.footprint knows every text it feeds the encoder
    options: tuple[str, ...] = field(default=())

    def execute(self, context: Any) -> Any:
        """Run the strategy on ``context`` (a :class:`xcs.experiment.runs.RunContext`)."""
        run = self.run
        if isinstance(run, str):
            module, _, function = run.partition(":")
            run = getattr(importlib.import_module(module), function)
        return run(context)


STRATEGIES: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add ``strategy`` to :data:`STRATEGIES` (a name taken is an error)."""
    if strategy.name in STRATEGIES:
        raise ValueError(f"strategy {strategy.name!r} is already registered")
    STRATEGIES[strategy.name] = strategy
    return strategy


_SWITCHING = ("p", "p_start", "shuffle_translations")
_RUNS = "xcs.experiment.runs"
register(Strategy("zero-shot", f"{_RUNS}:train_run", trains=True, reads_pairs=True))
register(Strategy("code-switch", f"{_RUNS}:train_run", trains=True, reads_pairs=True, switches=True,
                  needs_languages=True, per_side_languages=True, options=_SWITCHING))
register(Strategy("translate-test", f"{_RUNS}:translate_test_run", needs_languages=True,
                  reverse_lexicons=True, needs_baseline_model=True, footprint_covered=False,
                  options=("shuffle_translations",)))
register(Strategy("off-the-shelf", f"{_RUNS}:off_the_shelf_run", seed_independent=True))
register(Strategy("rerank", f"{_RUNS}:rerank_run", reads_pairs=True, switches=True, needs_languages=True,
                  needs_baseline_model=True, writes_own_result=True, footprint_covered=False,
                  options=(*_SWITCHING, "rerank_k")))
register(Strategy("interpolate", f"{_RUNS}:interpolate_run", interpolates=True, options=("alpha", "base")))
