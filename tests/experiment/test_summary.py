"""The summary's tests on recorded runs: the seed-level test (the training run as the unit) next to
the per-query test, and which MLIR a table reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from xcs.experiment.config import load_config
from xcs.experiment.summary import POOLED_MLIR, summarize

CONFIG = """
name = "seeds"
model = "default"
seeds = [0, 1, 2]
baseline = "zero-shot"
reference = "untouched"
[eval]
tasks = ["moir", "mlir"]
[methods.zero-shot]
strategy = "zero-shot"
[methods.other]
strategy = "zero-shot"
train = { lr = 1e-4 }
[methods.untouched]
strategy = "off-the-shelf"
"""
MOIR = {"zero-shot": [0.50, 0.52, 0.51], "other": [0.53, 0.56, 0.52], "untouched": [0.40]}
MLIR = {"zero-shot": [0.30, 0.31, 0.29], "other": [0.31, 0.33, 0.30], "untouched": [0.20]}


def _write_runs(results: Path, mlir_definition: str | None = "paper", per_query: bool = True) -> None:
    rng = np.random.default_rng(0)
    for method in MOIR:
        for seed, (moir, mlir) in enumerate(zip(MOIR[method], MLIR[method], strict=True)):
            run = results / "runs" / method / f"seed{seed}"
            run.mkdir(parents=True)
            entry = {"mrr@10": mlir, "by_language": {}}
            if mlir_definition is not None:
                entry["definition"] = mlir_definition
            (run / "metrics.json").write_text(json.dumps({"moir": {"mrr@10": moir}, "mlir": entry}))
            if per_query:  # 500 queries around the run's mean
                np.savez(run / "per_query.npz", **{"moir/mrr@10/en": moir + 0.01 * rng.standard_normal(500),
                                                   "mlir/mrr@10/en": mlir + 0.01 * rng.standard_normal(500)})


@pytest.fixture()
def config(tmp_path):
    path = tmp_path / "seeds.toml"
    path.write_text(CONFIG)
    return load_config(path)


def test_seed_level_test_is_paired_over_seeds_and_one_sample_against_the_untouched_model(config, tmp_path):
    results = tmp_path / "results"
    _write_runs(results)
    summary = summarize(config, results, tmp_path / "work")
    n_tests = summary["n_tests"]
    assert n_tests == 3 * 2  # other vs both, zero-shot vs untouched (counted once); 2 columns
    cell = summary["methods"]["other"]["MoIR"]
    expected = stats.ttest_rel(MOIR["other"], MOIR["zero-shot"])
    assert cell["p_seeds"] == pytest.approx(expected.pvalue)
    assert cell["p_seeds_bonferroni"] == pytest.approx(min(1.0, expected.pvalue * n_tests))
    assert cell["n_seeds"] == 3 and cell["delta_seeds"] == pytest.approx(0.08 / 3)
    # the per-query test sees 500 queries of a 2-point gap: "significant" where the seeds are not
    assert cell["p_bonferroni"] < 1e-10 and cell["p_seeds_bonferroni"] > 0.05
    versus = summary["methods"]["zero-shot"]["MoIR"]["vs_reference"]
    one_sample = stats.ttest_1samp(np.asarray(MOIR["zero-shot"]) - MOIR["untouched"][0], 0.0)
    assert versus["p_seeds"] == pytest.approx(one_sample.pvalue) and versus["n_seeds"] == 3
    assert summary["mlir"] == "paper"
    assert summary["tests"].startswith("seed level: paired t-test over the seeds' means")


def test_seed_level_test_needs_no_per_query_scores(config, tmp_path):
    results = tmp_path / "results"
    _write_runs(results, per_query=False)
    cell = summarize(config, results, tmp_path / "work")["methods"]["other"]["MLIR"]
    assert "p_value" not in cell  # nothing recorded to fall back on
    assert cell["p_seeds"] == pytest.approx(stats.ttest_rel(MLIR["other"], MLIR["zero-shot"]).pvalue)


def test_one_seed_has_no_seed_level_test(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text(CONFIG.replace("seeds = [0, 1, 2]", "seeds = [0]"))
    results = tmp_path / "results"
    _write_runs(results)
    cell = summarize(load_config(path), results, tmp_path / "work")["methods"]["other"]["MoIR"]
    assert cell["n_seeds"] == 1 and "p_seeds" not in cell and "p_value" in cell


def test_old_runs_report_the_pooled_mlir_and_cannot_mix_with_new_ones(config, tmp_path):
    results = tmp_path / "results"
    _write_runs(results, mlir_definition=None)
    assert summarize(config, results, tmp_path / "work")["mlir"] == POOLED_MLIR
    metrics = results / "runs" / "other" / "seed1" / "metrics.json"
    record = json.loads(metrics.read_text())
    record["mlir"]["definition"] = "paper"
    metrics.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="different MLIR measures"):
        summarize(config, results, tmp_path / "work")


def test_the_untouched_row_is_tested_against_the_baselines_seeds(config, tmp_path):
    results = tmp_path / "results"
    _write_runs(results)
    cell = summarize(config, results, tmp_path / "work")["methods"]["untouched"]["MoIR"]
    expected = stats.ttest_1samp(np.asarray(MOIR["zero-shot"]) - MOIR["untouched"][0], 0.0)
    assert cell["p_seeds"] == pytest.approx(expected.pvalue) and cell["n_seeds"] == 3
    assert cell["delta_seeds"] == pytest.approx(MOIR["untouched"][0] - np.mean(MOIR["zero-shot"]))


def test_a_row_is_tested_against_the_control_it_names(tmp_path):
    path = tmp_path / "control.toml"
    path.write_text(CONFIG.replace('train = { lr = 1e-4 }', 'train = { lr = 1e-4 }\ncontrol = "zero-shot"')
                    + '[methods.third]\nstrategy = "zero-shot"\ntrain = { lr = 1e-3 }\ncontrol = "other"\n')
    results = tmp_path / "results"
    _write_runs(results)
    for seed, value in enumerate([0.60, 0.61, 0.63]):
        run = results / "runs" / "third" / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({"moir": {"mrr@10": value},
                                                      "mlir": {"mrr@10": 0.3, "definition": "paper"}}))
    summary = summarize(load_config(path), results, tmp_path / "work")
    cell = summary["methods"]["third"]["MoIR"]
    assert cell["control"] == "other"
    assert cell["p_seeds"] == pytest.approx(stats.ttest_rel([0.60, 0.61, 0.63], MOIR["other"]).pvalue)
    assert "control" not in summary["methods"]["other"]["MoIR"]  # its control is the baseline
    # pairs: other-zero-shot, other-untouched, zero-shot-untouched, third-other, third-untouched
    assert summary["n_tests"] == 5 * 2


@pytest.mark.parametrize("control", ["nobody", "other"])
def test_a_control_must_name_another_evaluated_method(tmp_path, control):
    path = tmp_path / "bad.toml"
    named = f'train = {{ lr = 1e-4 }}\ncontrol = "{control}"'
    path.write_text(CONFIG.replace('train = { lr = 1e-4 }', named))
    with pytest.raises(ValueError, match=r"\[methods.other\] control"):
        load_config(path)


def test_learning_curve_plots_one_png_per_column(tmp_path):
    from xcs.experiment.report import learning_curve_plots

    def summary(shift):
        cell = {"mean": 0.5 + shift, "std": 0.01, "seeds": {"0": 0.5 + shift}}
        switched = {**cell, "mean": 0.6 + shift}
        return {"methods": {"en": {"MoIR": cell, "CLIR": cell}, "ml-cs": {"CLIR": switched}}}

    written = learning_curve_plots({40: summary(0.0), 587: summary(0.05), 80: summary(0.02)}, tmp_path,
                                   columns=("MoIR", "CLIR", "MLIR"))
    assert [p.name for p in written] == ["curve_MoIR.png", "curve_CLIR.png"]  # no MLIR anywhere: no plot
    assert all(p.stat().st_size > 0 for p in written)


def _curve_point(root: Path, steps: int, shift: float, *, model: str = "default", mlir: str = "paper",
                 seeds: int = 3) -> Path:
    """An ``xcs experiment`` results directory trained ``steps`` steps: its config.toml and a
    summary.json whose ml-cs row was tested against en (the seed-level fields summarize writes)."""
    results = root / f"steps{steps}"
    results.mkdir(parents=True)
    (results / "config.toml").write_text(
        f'name = "c{steps}"\nmodel = "{model}"\nbaseline = "en"\n[train]\nsteps = {steps}\n'
        '[methods.en]\nstrategy = "zero-shot"\n[methods.ml-cs]\nlanguages = ["de"]\np = 0.5\n'
        '[methods.untouched]\nstrategy = "off-the-shelf"\n')
    en = {str(s): 0.50 + 0.01 * s for s in range(seeds)}
    cs = {s: v + shift for s, v in en.items()}
    test = {"delta_seeds": shift, "p_seeds": 0.004, "p_seeds_bonferroni": 0.012} if seeds > 1 else {}
    summary = {"baseline": "en", "reference": "untouched", "mlir": mlir, "methods": {
        "en": {"CLIR": {"mean": float(np.mean(list(en.values()))), "std": 0.01, "seeds": en}},
        "ml-cs": {"CLIR": {"mean": float(np.mean(list(cs.values()))), "std": 0.01, "seeds": cs, **test}},
        "untouched": {"CLIR": {"mean": 0.4, "std": 0.0, "seeds": {"0": 0.4}}}}}
    (results / "summary.json").write_text(json.dumps(summary))
    return results


def test_learning_curve_points_are_keyed_by_steps_and_vary_nothing_else(tmp_path):
    from xcs.experiment.summary import learning_curve_points

    late, early = _curve_point(tmp_path, 587, 0.05), _curve_point(tmp_path, 40, 0.02)
    assert list(learning_curve_points([late, early])) == [40, 587]
    with pytest.raises(ValueError, match=r"steps40 and .*steps40 both train for 40 steps"):
        learning_curve_points([early, early])
    other_model = _curve_point(tmp_path / "m", 80, 0.0, model="intfloat/multilingual-e5-base")
    with pytest.raises(ValueError, match="different models: 'default'"):
        learning_curve_points([early, other_model])
    pooled = _curve_point(tmp_path / "p", 80, 0.0, mlir="pooled")
    with pytest.raises(ValueError, match=r"different MLIR measures: .*steps40: paper; .*steps80: pooled"):
        learning_curve_points([early, pooled])
    with pytest.raises(FileNotFoundError, match=r"nowhere has no config.toml"):
        learning_curve_points([early, tmp_path / "nowhere"])
    untrained = tmp_path / "untouched-only"
    untrained.mkdir()
    (untrained / "config.toml").write_text('name = "u"\nbaseline = "u"\n'
                                           '[methods.u]\nstrategy = "off-the-shelf"\n')
    with pytest.raises(ValueError, match="untouched-only/config.toml trains no method"):
        learning_curve_points([early, untrained])
    (early / "summary.json").unlink()  # an experiment still running: no summary yet
    with pytest.raises(FileNotFoundError, match=r"summary .*steps40/summary.json does not exist"):
        learning_curve_points([early])


def test_learning_curve_table_gives_each_point_its_difference_and_test(tmp_path):
    from xcs.experiment.report import learning_curve_table
    from xcs.experiment.summary import learning_curve_points

    points = learning_curve_points([_curve_point(tmp_path, 40, 0.02),
                                    _curve_point(tmp_path, 587, -0.03, seeds=1)])
    table = learning_curve_table(points, columns=("MoIR", "CLIR"))
    assert "## MoIR" not in table  # no point has it
    rows = {line.split(" | ")[0]: line for line in table.splitlines() if line.startswith("| ")}
    assert rows["| method"] == "| method | 40 steps | 587 steps |"
    # 40 steps: 3 seeds, the summary's seed-level test (significant after Bonferroni); 587: one seed,
    # the difference alone
    assert rows["| ml-cs (Δ vs `en`)"] == ("| ml-cs (Δ vs `en`) | 53.0 ±1.0 (3) · Δ +2.00* (p = 0.004) "
                                           "| 47.0 · Δ -3.00 (no test: 1 seed) |")
    assert rows["| untouched"] == "| untouched | 40.0 | 40.0 |"  # the reference: no difference
    assert rows["| en"] == "| en | 51.0 ±1.0 (3) | 50.0 |"  # the baseline: its own control


def test_curve_command_writes_its_table_and_plots_and_refuses_foreign_output(tmp_path, capsys):
    from xcs.cli import main

    points = [str(_curve_point(tmp_path, steps, 0.01)) for steps in (40, 80)]
    out = tmp_path / "curve"
    assert main(["curve", *points, "--out", str(out)]) == 0
    assert "| ml-cs (Δ vs `en`) |" in (out / "curve.md").read_text()
    assert (out / "curve_CLIR.png").stat().st_size > 0
    assert main(["curve", *points, "--out", str(out)]) == 0  # its own directory: redone
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("someone's file")
    capsys.readouterr()
    assert main(["curve", *points, "--out", str(foreign)]) == 1
    assert "did not create" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert main(["curve", *points, "--out", str(tmp_path / "steps40" / "plots")]) == 1
    assert "overlaps the input RESULTS_DIR" in capsys.readouterr().err
