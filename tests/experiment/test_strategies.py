"""Strategies are objects in a registry: a new kind of row is defined in one place, and the config
loader, the runner and the summary take it without a change."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.experiment import runner as experiment
from xcs.experiment.config import load_config
from xcs.experiment.methods import Method
from xcs.experiment.strategies import STRATEGIES, RunContext, Strategy, register


class ConstantEncoder:
    """Every text the same unit vector plus a little seeded noise: a row that knows nothing."""

    description = "constant (toy strategy)"

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def encode(self, texts, kind=None):
        out = np.ones((len(texts), 8), np.float32) + 0.01 * self.rng.standard_normal((len(texts), 8))
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture()
def toy_strategy():
    runs: list[RunContext] = []

    def run(ctx: RunContext):
        runs.append(ctx)
        return ConstantEncoder(ctx.seed)

    strategy = register(Strategy("constant", run, seed_independent=False, options=("rerank_k",)))
    yield strategy, runs
    del STRATEGIES[strategy.name]


def test_a_registered_strategy_runs_in_an_experiment(toy_strategy, tmp_path, data_dir):
    _, runs = toy_strategy
    config_path = tmp_path / "toy.toml"
    config_path.write_text("""
name = "toy"
model = "default"
seeds = [0, 1]
baseline = "constant"
[eval]
tasks = ["moir"]
subsample = 4
languages = ["en", "de"]
pairs = ["en-de"]
[methods.constant]
strategy = "constant"
rerank_k = 5
""")
    config = load_config(config_path)
    summary = experiment.run_experiment(config, results_dir=tmp_path / "results", work_dir=tmp_path / "work",
                                        data_dir=data_dir, progress=False)
    assert [ctx.seed for ctx in runs] == [0, 1] and all(ctx.method.rerank_k == 5 for ctx in runs)
    cell = summary["methods"]["constant"]["MoIR"]
    assert set(cell["seeds"]) == {"0", "1"} and 0.0 < cell["mean"] <= 1.0
    assert (tmp_path / "results" / "runs" / "constant" / "seed1" / "per_query.npz").exists()


def test_the_strategy_owns_its_options(toy_strategy):
    # rerank_k is now read by the reranker and the toy strategy only
    with pytest.raises(ValueError, match="'rerank_k' .* is for strategy = 'rerank' / 'constant'"):
        Method.from_dict("a", {"strategy": "zero-shot", "rerank_k": 3})
    with pytest.raises(ValueError, match="unknown strategy 'nothing'"):
        Method(name="a", strategy="nothing")
    with pytest.raises(ValueError, match="already registered"):
        register(Strategy("constant", lambda ctx: None))
