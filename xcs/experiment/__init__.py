"""``xcs experiment``: methods x seeds -> train -> evaluate -> significance -> summary, table, plots.

- :mod:`xcs.experiment.strategies` — what each kind of row is (a registry of ``Strategy``).
- :mod:`xcs.experiment.methods` — :class:`~xcs.experiment.methods.Method`: a strategy, a switching
  recipe and the strategy's options.
- :mod:`xcs.experiment.config` — the TOML config, parsed and checked at load time.
- :mod:`xcs.experiment.data` — the training pairs (SQuAD v1.1 dev minus XQuAD).
- :mod:`xcs.experiment.runs` — how each built-in strategy runs one (method, seed): ``RunContext``.
- :mod:`xcs.experiment.runner` — one run, the reranker run, the whole experiment.
- :mod:`xcs.experiment.summary` — means, stds and paired tests over finished runs.
- :mod:`xcs.experiment.footprint` — the data files, texts and token ids a config's run uses (what a
  machine that receives only a small bundle needs; ``benches/gpu/carry.py``).
- :mod:`xcs.experiment.report` — Markdown tables and plots (of one experiment, and of a learning curve
  over experiments that differ in training steps).
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "ExperimentConfig": "xcs.experiment.config",
    "load_config": "xcs.experiment.config",
    "EvalOptions": "xcs.experiment.config",
    "Method": "xcs.experiment.methods",
    "RunPaths": "xcs.experiment.paths",
    "run_paths": "xcs.experiment.paths",
    "learning_curve_plots": "xcs.experiment.report",
    "learning_curve_points": "xcs.experiment.summary",
    "learning_curve_table": "xcs.experiment.report",
    "markdown_table": "xcs.experiment.report",
    "run_experiment": "xcs.experiment.runner",
    "summarize": "xcs.experiment.summary",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
