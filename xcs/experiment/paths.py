"""Where each (method, seed) run of an experiment lives: the one definition of the layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunPaths:
    """``results``: ``RESULTS/runs/METHOD/seedS`` (``run.json``, ``metrics.json``,
    ``per_query.npz``, ``rerank.json``: small, committed); ``work``: ``WORK/METHOD/seedS`` (the
    model, checkpoints, the evaluation's outputs, ``rerank_per_query.npz``: large, not for git)."""

    results: Path
    work: Path

    @property
    def model(self) -> Path:
        """The saved model (kept for interpolations, translate-test and the reranker)."""
        return self.work / "model"

    @property
    def evaluation(self) -> Path:
        """The evaluation's own output directory."""
        return self.work / "eval"


def run_paths(results_dir: Path, work_dir: Path, method: str, seed: int) -> RunPaths:
    """The directories of run ``method`` at ``seed``."""
    run = Path(method) / f"seed{seed}"
    return RunPaths(Path(results_dir) / "runs" / run, Path(work_dir) / run)
