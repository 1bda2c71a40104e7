"""xcs.experiment.runner: config parsing, and one end-to-end run (tiny model, synthetic training pairs, the
real XQuAD-R / Tatoeba files subsampled to a handful of queries) with summary, table, plots, re-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_helpers import make_pairs, save_tiny_model

from xcs.experiment import runner as experiment
from xcs.experiment.config import load_config
from xcs.experiment.report import markdown_table
from xcs.io.versions import versions

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configs_parse():
    quick = load_config(REPO / "configs" / "quick.toml")
    assert quick.baseline in quick.methods
    assert any(m.strategy == "code-switch" for m in quick.methods.values())
    paper = load_config(REPO / "configs" / "paper.toml")
    assert len(paper.seeds) == 3
    swept = sorted(m.recipe.p for m in paper.methods.values() if m.name.startswith("ml-cs@p="))
    assert swept == [0.25, 0.5, 0.75, 1.0]
    kinds = {m.strategy for m in paper.methods.values()}
    assert {"zero-shot", "code-switch", "translate-test"} <= kinds
    for name in ("pareto", "pareto-dev"):  # issue 13: the recipe chosen on dev, reported on test
        config = load_config(REPO / "configs" / f"{name}.toml")
        assert config.eval.split == ("test" if name == "pareto" else "dev")
        assert any(m.strategy == "interpolate" for m in config.methods.values())
    assert quick.methods["ml-cs-wise"].base == "ml-cs" and quick.reference == "off-the-shelf"


@pytest.mark.parametrize(("text", "message"), [
    ("name='x'\n[methods.zero-shot]\nstrategy='zero-shot'\n[trainn]\nsteps=1\n", "unknown top-level"),
    ("name='x'\n[methods.a]\nstrategy='zero-shot'\n", "baseline 'zero-shot' is not among"),
    ("name='x'\nreference='plain'\n[methods.zero-shot]\nstrategy='zero-shot'\n",
     "reference 'plain' is not among"),
    ("name='x'\nreference='zero-shot'\n[methods.zero-shot]\nstrategy='zero-shot'\n",
     "reference 'zero-shot' is the"),
    ("name='x'\n[methods.zero-shot]\nstrategy='zero-shot'\nrate=1\n",
     r"\[methods.zero-shot\].*unknown option"),
    ("name='x'\n[train]\nstepz=3\n[methods.zero-shot]\nstrategy='zero-shot'\n", "unknown training option"),
    ("name='x'\n[methods.zero-shot]\nstrategy='zero-shot'\n[data]\nmax_pair=3\n",
     r"\[data\]: max_pair: unknown key"),
    ("name = [\n", "invalid TOML"),
    ("name='x'\n[eval]\nsubsampel=3\n[methods.zero-shot]\nstrategy='zero-shot'\n",
     r"\[eval\]: subsampel: unknown key"),
    ("name='x'\n[eval]\ntasks=['xquad']\n[methods.zero-shot]\nstrategy='zero-shot'\n",
     r"\[eval\]: unknown task"),
    ("name='x'\ndevice='gpu'\n[methods.zero-shot]\nstrategy='zero-shot'\n", "device must be"),
    ("name='x'\n[methods.zero-shot]\nstrategy='zero-shot'\n"
     "[methods.ml]\nlanguages=['de','ru']\nweights=[1.0]\n",
     r"\[methods.ml\]: 1 weights for the 2 languages"),
])
def test_bad_configs_name_the_problem(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_config(write(tmp_path / "bad.toml", text))


def test_experiment_command_prints_a_config_error_cleanly(tmp_path, capsys):
    from xcs.cli import main

    path = write(tmp_path / "bad.toml",
                 "name='x'\n[eval]\nsubsampel=3\n[methods.zero-shot]\nstrategy='zero-shot'\n")
    assert main(["experiment", "--config", str(path)]) == 1
    assert f"xcs experiment: error: {path}: [eval]: subsampel: unknown key" in capsys.readouterr().err


def test_device_key_is_accepted(tmp_path):
    text = "name='x'\n{}[methods.zero-shot]\nstrategy='zero-shot'\n"
    assert load_config(write(tmp_path / "default.toml", text.format(""))).device == "auto"
    for device in ("auto", "cpu", "cuda:1"):  # resolved when a run starts, so any machine parses them
        assert load_config(write(tmp_path / "c.toml", text.format(f"device = '{device}'\n"))).device == device


def test_p_sweep_expands_into_one_method_per_rate(tmp_path):
    config = load_config(write(tmp_path / "c.toml", """
name = "sweep"
[methods.zero-shot]
strategy = "zero-shot"
[methods.ml]
languages = ["de", "ru"]
p_sweep = [0.25, 1.0]
"""))
    assert sorted(config.methods) == ["ml@p=0.25", "ml@p=1", "zero-shot"]
    assert config.methods["ml@p=1"].recipe.p == 1.0


def test_end_to_end_experiment(tmp_path, e5_tokenizer, data_dir, monkeypatch):
    model = save_tiny_model(tmp_path / "tiny", e5_tokenizer, 0.0)
    write(tmp_path / "en-de.tsv", "what\twas\nriver\tfluss\ncastle\tburg\nthe\tdie\nnumber\tnummer\n")
    write(tmp_path / "de-en.tsv", "fluss\triver\nburg\tcastle\nhauptstadt\tcapital\n")
    template = str(tmp_path / "{src}-{tgt}.tsv")
    config_path = write(tmp_path / "tiny.toml", f"""
name = "tiny"
model = "{model}"
seeds = [0, 1]
keep_models = false  # translate-test and rerank still get the zero-shot models
[train]
steps = 2
batch_size = 8
lr = 1e-3
checkpoint_every = 100
[eval]
tasks = ["lareqa", "moir", "clir", "mlir", "tatoeba"]
subsample = 4
languages = ["en", "de"]
tatoeba_languages = ["de"]
pairs = ["en-de"]
[methods.zero-shot]
strategy = "zero-shot"
[methods.bl-cs-de]
languages = ["de"]
p = 0.5
lexicon = "{template}"
align_weight = 0.5
[methods.translate-test]
strategy = "translate-test"
languages = ["de"]
lexicon = "{template}"
[methods.rerank]
strategy = "rerank"
languages = ["de"]
lexicon = "{template}"
rerank_k = 5
""")
    monkeypatch.setattr(experiment, "training_pairs", lambda *args, **kwargs: make_pairs())
    config = load_config(config_path)
    results, work = tmp_path / "results", tmp_path / "work"
    first = experiment.run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir,
                                      progress=False, seeds=[0])
    assert set(first["methods"]["bl-cs-de"]["CLIR"]["seeds"]) == {"0"}
    assert not (results / "runs" / "bl-cs-de" / "seed1").exists()
    assert (work / "zero-shot" / "seed0" / "model").exists()
    assert not (work / "bl-cs-de" / "seed0" / "model").exists()
    summary = experiment.run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir,
                                        progress=False, config_text=config_path.read_text())
    assert set(summary["methods"]) == {"zero-shot", "bl-cs-de", "translate-test"}  # rerank: own table
    cell = summary["methods"]["bl-cs-de"]["CLIR"]
    assert set(cell["seeds"]) == {"0", "1"} and 0.0 <= cell["mean"] <= 1.0
    assert 0.0 <= cell["p_value"] <= 1.0 and cell["p_bonferroni"] >= cell["p_value"]
    assert "p_value" not in summary["methods"]["zero-shot"]["CLIR"]
    assert {"MoIR", "CLIR", "MLIR", "en-de", "LAReQA", "Tatoeba"} <= set(summary["methods"]["zero-shot"])
    record = json.loads((results / "runs" / "bl-cs-de" / "seed1" / "run.json").read_text())
    assert record["status"] == "done" and len(record["train"]["losses"]) == 2
    # every record names the versions that produced it
    environment = versions()
    assert set(environment) == {"python", "torch", "transformers", "triton", "numpy", "xcs"}
    assert record["environment"] == environment
    for path in (results / "runs" / "bl-cs-de" / "seed1" / "metrics.json",
                 results / "runs" / "rerank" / "seed1" / "run.json",
                 results / "runs" / "rerank" / "seed1" / "rerank.json",
                 work / "bl-cs-de" / "seed1" / "train_log.json",
                 work / "bl-cs-de" / "seed1" / "eval" / "run_info.json",
                 results / "summary.json"):
        assert json.loads(path.read_text())["environment"] == environment, path
    table = (results / "table.md").read_text()
    assert "| bl-cs-de |" in table and "| translate-test |" in table
    assert (results / "pairs.png").stat().st_size > 0 and (results / "config.toml").exists()
    reranked = summary["rerank"]["rerank"]["en-de"]
    assert 0.0 <= reranked["after"] <= 1.0 and reranked["seeds"] == [0, 1]
    # "before" is the baseline dual encoder's own ranking: the evaluation's en-de number
    assert reranked["before"] == pytest.approx(summary["methods"]["zero-shot"]["en-de"]["mean"])
    assert "Reranking" in table
    saved = json.loads((results / "summary.json").read_text())
    assert saved["methods"]["bl-cs-de"]["CLIR"]["mean"] == pytest.approx(cell["mean"])

    # a re-run skips every finished run: training or evaluating again would fail here
    def refuse(*args, **kwargs):
        raise AssertionError("a finished run was redone")

    monkeypatch.setattr("xcs.training.loop.train", refuse)
    monkeypatch.setattr(experiment, "_evaluate", refuse)
    again = experiment.run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir,
                                      progress=False)
    assert again["methods"]["bl-cs-de"]["CLIR"] == summary["methods"]["bl-cs-de"]["CLIR"]
    assert not [p for folder in (results, work) for p in folder.rglob(".*tmp*")]  # atomic writes left no tmp

    # --only picks the runs to do; the summary still covers every finished method
    from xcs.cli import main

    assert main(["experiment", "--config", str(config_path), "--results-dir", str(results), "--work-dir",
                 str(work), "--data-dir", str(data_dir), "--only", "bl-cs-de", "--no-progress"]) == 0
    saved = json.loads((results / "summary.json").read_text())
    assert set(saved["methods"]) == {"zero-shot", "bl-cs-de", "translate-test"}
    assert "rerank" in saved["rerank"]

    # a finished run made with other settings is an error, not silently reused or redone
    changed = load_config(config_path)
    changed.methods["bl-cs-de"].recipe.p = 0.25
    with pytest.raises(ValueError, match=r"runs/bl-cs-de/seed0: .*other settings \(method\.p\)"):
        experiment.run_experiment(changed, results_dir=results, work_dir=work, data_dir=data_dir,
                                  progress=False)
    changed = load_config(config_path)
    changed.train["lr"] = 0.5
    changed.train["checkpoint_every"] = 7  # does not change what a run computes: ignored
    with pytest.raises(ValueError, match=r"runs/zero-shot/seed0: .*other settings \(train\.lr\)"):
        experiment.run_experiment(changed, results_dir=results, work_dir=work, data_dir=data_dir,
                                  progress=False)


def test_interpolation_sweep_spans_the_untouched_and_the_tuned_model(tmp_path, e5_tokenizer, data_dir,
                                                                     monkeypatch):
    model = save_tiny_model(tmp_path / "tiny", e5_tokenizer, 0.0)
    config_path = write(tmp_path / "wise.toml", f"""
name = "wise"
model = "{model}"
reference = "off-the-shelf"
keep_models = false  # the base of an interpolation is kept anyway
[train]
steps = 2
batch_size = 8
lr = 1e-2
[eval]
tasks = ["moir", "clir"]
subsample = 4
languages = ["en", "de"]
pairs = ["en-de"]
[methods.zero-shot]
strategy = "zero-shot"
[methods.off-the-shelf]
strategy = "off-the-shelf"
[methods.wise]
strategy = "interpolate"
base = "zero-shot"
alpha_sweep = [0.0, 0.5, 1.0]
[methods.hidden]
strategy = "zero-shot"
evaluate = false
train = {{ lr = 1e-3 }}
[methods.hidden-wise]
strategy = "interpolate"
base = "hidden"
alpha = 0.5
""")
    monkeypatch.setattr(experiment, "training_pairs", lambda *args, **kwargs: make_pairs())
    config = load_config(config_path)
    assert [config.methods[f"wise@alpha={a}"].alpha for a in ("0", "0.5", "1")] == [0.0, 0.5, 1.0]
    results, work = tmp_path / "results", tmp_path / "work"
    summary = experiment.run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir,
                                        progress=False, methods=["wise@alpha=0", "wise@alpha=1",
                                                                 "wise@alpha=0.5", "off-the-shelf",
                                                                 "hidden-wise"])
    rows = summary["methods"]
    assert "hidden" not in rows and "hidden-wise" in rows  # trained for its interpolation, not reported
    assert json.loads((results / "runs" / "hidden" / "seed0" / "run.json").read_text())["status"] == "done"
    for metric in ("MoIR", "CLIR"):  # alpha = 0 is the untouched model, 1 the fine-tuned one
        assert rows["wise@alpha=0"][metric]["mean"] == pytest.approx(rows["off-the-shelf"][metric]["mean"])
        assert rows["wise@alpha=1"][metric]["mean"] == pytest.approx(rows["zero-shot"][metric]["mean"])
    assert rows["zero-shot"]["MoIR"]["mean"] != pytest.approx(rows["off-the-shelf"]["MoIR"]["mean"])
    assert (work / "zero-shot" / "seed0" / "model").exists()
    # every method is also tested against the reference (the untouched model), the reference itself not
    versus = rows["zero-shot"]["MoIR"]["vs_reference"]
    gap = rows["zero-shot"]["MoIR"]["mean"] - rows["off-the-shelf"]["MoIR"]["mean"]
    assert versus["delta"] == pytest.approx(gap)
    assert "vs_reference" not in rows["off-the-shelf"]["MoIR"] and "p_value" in rows["off-the-shelf"]["MoIR"]
    columns = len(rows["zero-shot"])  # MoIR, CLIR, en-de
    # each row vs the baseline and the reference, less itself; the baseline-reference pair counted once
    assert summary["tests"].endswith(f"Bonferroni x{(6 * 2 - 2 - 1) * columns}")
    assert "`▲` / `▼`: than `off-the-shelf`" in (results / "table.md").read_text()
    assert (results / "pareto.png").stat().st_size > 0
    # the per-query scores are kept with the results, the same as the evaluation's own
    kept = results / "runs" / "zero-shot" / "seed0" / "per_query.npz"
    assert kept.read_bytes() == (work / "zero-shot" / "seed0" / "eval" / "per_query.npz").read_bytes()
    # on a machine without the per-query scores, the recorded tests carry over
    for path in [*work.rglob("per_query.npz"), *results.rglob("per_query.npz")]:
        path.unlink()
    again = experiment.summarize(config, results, work)["methods"]
    cell, before = again["wise@alpha=0.5"]["MoIR"], rows["wise@alpha=0.5"]["MoIR"]
    assert (cell["p_value"], cell["delta"]) == (before["p_value"], before["delta"])
    assert cell["p_source"] == "summary.json"
    versus = again["zero-shot"]["CLIR"]["vs_reference"]
    assert versus["p_value"] == rows["zero-shot"]["CLIR"]["vs_reference"]["p_value"]
    # a method whose runs changed since the recorded summary is not tested
    recorded = json.loads((results / "summary.json").read_text())
    recorded["methods"]["wise@alpha=1"]["MoIR"]["seeds"]["1"] = 0.5
    (results / "summary.json").write_text(json.dumps(recorded))
    changed = experiment.summarize(config, results, work)["methods"]
    assert "p_value" not in changed["wise@alpha=1"]["MoIR"] and "p_value" in changed["wise@alpha=1"]["CLIR"]


def test_run_order_puts_bases_first_and_interpolations_last(tmp_path):
    config = load_config(write(tmp_path / "order.toml", """
name = "order"
baseline = "zero-shot"
[methods.zero-shot]
strategy = "interpolate"
base = "en"
[methods.cs-wise]
strategy = "interpolate"
base = "cs"
[methods.plain]
strategy = "off-the-shelf"
[methods.cs]
languages = ["de"]
evaluate = false
[methods.en]
strategy = "zero-shot"
evaluate = false
"""))
    assert experiment.run_order(config) == ["cs", "en", "zero-shot", "plain", "cs-wise"]
    assert experiment.run_order(config, ["cs-wise"]) == ["cs", "en", "zero-shot", "cs-wise"]
    assert experiment.run_order(config, ["plain"]) == ["en", "zero-shot", "plain"]


@pytest.mark.parametrize(("table", "message"), [
    ("strategy = 'interpolate'\nbase = 'nope'", r"\[methods.wise\] base = 'nope' is not a method"),
    ("strategy = 'interpolate'\nbase = 'plain'", r"base = 'plain' is a 'off-the-shelf' method"),
    ("strategy = 'interpolate'", "'base' .* is for strategy = 'interpolate'"),
    ("strategy = 'zero-shot'\nbase = 'zero-shot'", "'base' .* is for strategy = 'interpolate'"),
    ("strategy = 'interpolate'\nbase = 'zero-shot'\nalpha_sweep = [0.5]\np_sweep = [0.5]",
     "one sweep per method table"),
    ("strategy = 'interpolate'\nbase = 'zero-shot'\nevaluate = false",
     "evaluate = false is for a method that"),
    ("strategy = 'zero-shot'\nevaluate = false", r"\[methods.wise\] evaluate = false, but no interpolation"),
])
def test_interpolation_configs_name_the_problem(tmp_path, table, message):
    text = (f"name='x'\n[methods.zero-shot]\nstrategy='zero-shot'\n[methods.plain]\n"
            f"strategy='off-the-shelf'\n[methods.wise]\n{table}\n")
    with pytest.raises(ValueError, match=message):
        load_config(write(tmp_path / "bad.toml", text))


def test_settings_compare_equal_after_a_json_round_trip():
    live = {"languages": ("de", "ru"), "steps": 2, "lr": 1e-3, "shared": True, "p_start": None}
    stored = json.loads(json.dumps({**live, "languages": ["de", "ru"], "steps": 2.0}))
    assert experiment._comparable(live) == experiment._comparable(stored)
    assert experiment._comparable({"lr": 1e-3}) != experiment._comparable({"lr": 2e-3})


def test_markdown_marks_only_seed_level_significance():
    cell = {"mean": 0.5, "std": 0.0, "seeds": {0: 0.5, 1: 0.5}}
    seeds_up = {"p_seeds_bonferroni": 0.01, "delta_seeds": 0.1}
    summary = {"baseline": "zero-shot", "reference": "untouched", "tests": "t", "n_tests": 8,
               "mlir": "paper", "methods": {
                   "zero-shot": {"CLIR": {"mean": 0.5, "std": 0.1, "seeds": {0: 0.4, 1: 0.6}}},
                   # per query and per seed significant: a real gain or loss
                   "up": {"CLIR": {**cell, "p_bonferroni": 0.01, "delta": 0.1, **seeds_up}},
                   "down": {"CLIR": {**cell, "p_bonferroni": 0.01, "delta": -0.1, "p_seeds_bonferroni": 0.02,
                                     "delta_seeds": -0.1}},
                   # thousands of queries make it "significant", the seeds do not: only a note
                   "queries-only": {"CLIR": {**cell, "p_bonferroni": 1e-200, "delta": 0.1,
                                             "p_seeds_bonferroni": 0.5, "delta_seeds": 0.1}},
                   "same": {"CLIR": {**cell, "p_bonferroni": 0.5, "delta": 0.1, "p_seeds_bonferroni": 0.9,
                                     "delta_seeds": 0.1,
                                     "vs_reference": {"p_seeds_bonferroni": 0.001, "delta_seeds": -0.2}}},
               }}
    table = markdown_table(summary)
    assert "| zero-shot | 2 | 50.0 ±10.0 |" in table
    assert "| up | 2 | 50.0 ±0.0* |" in table and "| down | 2 | 50.0 ±0.0- |" in table
    assert "| queries-only | 2 | 50.0 ±0.0° |" in table
    assert "| same | 2 | 50.0 ±0.0▼ |" in table
    assert "seed-level test" in table and "8 tests" in table and "MLIR: paper." in table
    assert "Fewer than two seeds" not in table


def test_markdown_with_one_seed_calls_nothing_significant():
    summary = {"baseline": "zero-shot", "tests": "t", "n_tests": 1, "methods": {
        "zero-shot": {"CLIR": {"mean": 0.5, "std": 0.0, "seeds": {0: 0.5}}},
        "other": {"CLIR": {"mean": 0.6, "std": 0.0, "seeds": {0: 0.6}, "p_bonferroni": 1e-9, "delta": 0.1,
                           "n_seeds": 1}}}}
    table = markdown_table(summary)
    assert "| other | 1 | 60.0° |" in table and "Fewer than two seeds: no seed-level test" in table


def test_train_command_trains_then_resumes_a_finished_run(tmp_path, e5_tokenizer, monkeypatch, capsys):
    from xcs.cli import main
    from xcs.training.config import TrainConfig

    model = save_tiny_model(tmp_path / "tiny", e5_tokenizer, 0.0)
    monkeypatch.setattr("xcs.experiment.data.training_pairs", lambda *args, **kwargs: make_pairs())
    argv = ["train", "--out", str(tmp_path / "run"), "--model", str(model), "--steps", "2",
            "--batch-size", "4", "--hard-negatives", "paragraph",
            "--checkpoint-every", "1", "--no-progress", "--data-dir", str(tmp_path), "--device", "cpu",
            "--weight-decay", "0", "--symmetric", "--max-grad-norm", "0.5"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["steps"] == 2 and (tmp_path / "run" / "model" / "config.json").exists()
    assert first["device"] == "cpu"
    config = json.loads((tmp_path / "run" / "train_log.json").read_text())["config"]
    assert (config["weight_decay"], config["symmetric"], config["max_grad_norm"]) == (0.0, True, 0.5)
    defaults = TrainConfig()
    assert (config["lr"], config["loss_impl"]) == (defaults.lr, defaults.loss_impl)  # unset flags: defaults
    assert main(argv) == 0  # same command again: resumes at the end, rewrites the model
    log = json.loads((tmp_path / "run" / "train_log.json").read_text())
    assert log["resumed_from"] == 2 and len(log["losses"]) == 2
    assert log["losses"][-1] == pytest.approx(first["last_loss"])


ZERO_SHOT = "[methods.zero-shot]\nstrategy='zero-shot'\n"


@pytest.mark.parametrize(("text", "message"), [
    ("[train]\nfreeze_embeddings='false'\n" + ZERO_SHOT,
     r"\[train\].*freeze_embeddings: Input should be a valid boolean \(got 'false'\)"),
    ("[train]\nsymmetric='no'\n" + ZERO_SHOT, "symmetric: Input should be a valid boolean"),
    ("keep_models='false'\n" + ZERO_SHOT, r"top level: keep_models: Input should be a valid boolean"),
    ("[train]\nsteps=40.5\n" + ZERO_SHOT, r"steps: Input should be a valid integer \(got 40.5\)"),
    ("[train]\nbatch_size=16.0\n" + ZERO_SHOT, r"batch_size: Input should be a valid integer \(got 16.0\)"),
    ("[eval]\nsubsample='100'\n" + ZERO_SHOT, r"\[eval\]: subsample: Input should be a valid integer"),
    ("[eval]\nlanguages='en'\n" + ZERO_SHOT, r"\[eval\]: languages: Input should be a valid list"),
    ("seeds=[]\n" + ZERO_SHOT, "top level: seeds: List should have at least 1 item"),
    ("seeds=[0.5]\n" + ZERO_SHOT, r"seeds.0: Input should be a valid integer \(got 0.5\)"),
    ("seeds=[1, 1]\n" + ZERO_SHOT, "repeats a seed"),
    (ZERO_SHOT + "[methods.ml]\nlanguages=['de']\nmax_candidates=0\n",
     r"\[methods.ml\]: max_candidates: Input should be greater than or equal to 1"),
    (ZERO_SHOT + "[methods.ml]\nlanguages=['de']\np=2.0\n", r"\[methods.ml\]: p: Input should be less than"),
    (ZERO_SHOT + "[methods.ml]\nlanguages=['de']\np_sweep=['a']\n",
     "p_sweep must be a non-empty list of numbers"),
    ("[data]\nmax_pairs=0\n" + ZERO_SHOT, r"\[data\]: max_pairs: Input should be greater than or equal to 1"),
])
def test_config_types_and_ranges_are_checked_at_load_time(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value)


def _data_dir(root: Path) -> Path:
    (root / "muse").mkdir(parents=True)
    (root / "muse" / "en-de.txt").write_text("house haus\n")
    (root / "squad").mkdir()
    (root / "squad" / "dev-v1.1.json").write_text("{}")
    (root / "xquad-r").mkdir()
    for lang in ("en", "de"):
        (root / "xquad-r" / f"{lang}.json").write_text("{}")
    return root


@pytest.mark.parametrize(("text", "message"), [
    (ZERO_SHOT + "[methods.ml]\nlanguages=['de', 'xx']\n", r"\[methods.ml\]: .*lexicon en->xx not found"),
    ("[eval]\ntasks=['moir']\nlanguages=['en', 'fr']\n" + ZERO_SHOT,
     r"XQuAD-R language 'fr'.*does not exist"),
    ("[eval]\ntasks=['tatoeba']\n" + ZERO_SHOT, r"\[eval\] Tatoeba: .*tatoeba does not exist"),
])
def test_missing_data_and_lexicon_files_fail_at_load_time(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    data = _data_dir(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match=message):
        load_config(path, data)
    load_config(path)  # without a data directory only the config itself is checked


def test_config_that_is_a_directory_or_unreadable(tmp_path):
    with pytest.raises(ValueError, match="is a directory; --config takes a TOML file"):
        load_config(tmp_path)
    (tmp_path / "latin1.toml").write_bytes("name='caf\xe9'\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_config(tmp_path / "latin1.toml")


def test_eval_options_follow_evaluate():
    """[eval] accepts exactly evaluate()'s keyword-only arguments plus tasks and pairs."""
    import dataclasses
    import inspect

    from xcs.evaluation.suite import evaluate
    from xcs.experiment.config import EvalOptions

    keyword_only = {n for n, p in inspect.signature(evaluate).parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert {f.name for f in dataclasses.fields(EvalOptions)} == keyword_only | {"tasks", "pairs"}


def test_records_from_before_new_options_keep_their_behaviour(tmp_path):
    """A run.json without freeze_layers / keep_case was made without them: it matches a config that
    sets them to that behaviour and is refused by one that does not."""
    from dataclasses import asdict

    path = tmp_path / "c.toml"
    path.write_text("[methods.zero-shot]\nstrategy='zero-shot'\n[methods.ml]\nlanguages=['de']\nkeep_case=false\n")
    config = load_config(path)
    method = config.methods["ml"]
    train = asdict(config.train_config(method, 0))
    del train["freeze_layers"]
    saved_method = {k: v for k, v in method.record().items() if k not in ("keep_case", "skip_stopwords",
                                                                          "protect_names")}
    record = {"method": saved_method, "model": config.model, "train": {"config": train}}
    experiment.check_finished_run(record, config, method, 0, tmp_path)
    path.write_text("[methods.zero-shot]\nstrategy='zero-shot'\n[methods.ml]\nlanguages=['de']\n")
    with pytest.raises(ValueError, match=r"other settings \(method.keep_case\)"):
        experiment.check_finished_run(record, load_config(path), load_config(path).methods["ml"], 0, tmp_path)
