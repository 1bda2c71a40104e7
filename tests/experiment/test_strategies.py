"""Strategies are objects in a registry: a new kind of row is defined in one place, and the config
loader, the runner and the summary take it without a change."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.experiment import runner as experiment
from xcs.experiment.config import load_config
from xcs.experiment.methods import Method
from xcs.experiment.runs import RunContext
from xcs.experiment.strategies import STRATEGIES, Strategy, register


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


def test_a_finished_base_whose_model_is_gone_is_retrained_for_its_interpolation(tmp_path, e5_tokenizer,
                                                                                  data_dir, monkeypatch):
    """A sweep resumed on another machine: the base's results are committed, its model is not."""
    import shutil

    from train_helpers import make_pairs, save_tiny_model

    model = save_tiny_model(tmp_path / "tiny", e5_tokenizer, 0.0)
    config_path = tmp_path / "resume.toml"
    config_path.write_text(f"""
name = "resume"
model = "{model}"
[train]
steps = 2
batch_size = 8
lr = 1e-2
[eval]
tasks = ["moir"]
subsample = 4
languages = ["en", "de"]
pairs = ["en-de"]
[methods.zero-shot]
strategy = "zero-shot"
[methods.wise]
strategy = "interpolate"
base = "zero-shot"
alpha = 0.5
""")
    monkeypatch.setattr(experiment, "training_pairs", lambda *args, **kwargs: make_pairs())
    config = load_config(config_path)
    results, work = tmp_path / "results", tmp_path / "work"
    experiment.run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir, progress=False,
                              methods=["zero-shot"])
    metrics = (results / "runs" / "zero-shot" / "seed0" / "metrics.json").read_bytes()
    shutil.rmtree(work)  # another machine: the results are there, the models are not
    evaluated = []
    original = experiment._evaluate
    monkeypatch.setattr(experiment, "_evaluate", lambda encoder, config, *args: evaluated.append(
        encoder) or original(encoder, config, *args))
    summary = experiment.run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir,
                                        progress=False)
    assert (work / "zero-shot" / "seed0" / "model").exists()  # trained again for the interpolation
    assert len(evaluated) == 1  # only the interpolation is evaluated; the base keeps its record
    assert (results / "runs" / "zero-shot" / "seed0" / "metrics.json").read_bytes() == metrics
    assert set(summary["methods"]) == {"zero-shot", "wise"}
