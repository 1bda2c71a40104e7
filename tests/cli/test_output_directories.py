"""No command writes into a non-empty directory it did not create (issue 21): every output option
goes through ``xcs.io.paths.output_directory`` / ``check_output_directory`` / ``output_file``; a run
resumes its own directory; the model cache and a command's inputs are never written."""

from __future__ import annotations

import json

import pytest

from xcs.cli import main


def _foreign(path, name="notes.txt"):
    path.mkdir(parents=True, exist_ok=True)
    (path / name).write_text("someone's file")
    return path


def test_the_rule(tmp_path, monkeypatch):
    from xcs.io.paths import OUTPUT_MARKER, check_output_directory, output_directory

    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "cache"))
    assert check_output_directory(tmp_path / "new", "--out", command="xcs eval")  # missing: fresh
    assert not (tmp_path / "new").exists()  # checking creates nothing
    created = output_directory(tmp_path / "new", "--out", command="xcs eval")
    assert json.loads((created / OUTPUT_MARKER).read_text()) == {"command": "xcs eval"}
    (created / "metrics.json").write_text("{}")
    assert output_directory(created, "--out", command="xcs eval") == created  # its own: again
    with pytest.raises(ValueError, match=r"--out .*new is a non-empty directory that `xcs train` did not "
                                         r"create \(`xcs eval` made it\).*--overwrite"):
        output_directory(created, "--out", command="xcs train")
    foreign = _foreign(tmp_path / "foreign")
    with pytest.raises(ValueError, match=r"no xcs command made it"):
        output_directory(foreign, "--out", command="xcs eval")
    assert not check_output_directory(foreign, "--out", command="xcs eval", overwrite=True)
    assert not (foreign / OUTPUT_MARKER).exists()  # --overwrite does not adopt it
    legacy = _foreign(tmp_path / "old-run", "train_log.json")  # written before the marker existed
    assert output_directory(legacy, "--out", command="xcs train", legacy=("train_log.json",)) == legacy
    for out in (tmp_path / "cache", tmp_path / "cache" / "models" / "x", tmp_path):
        with pytest.raises(ValueError, match="overlaps the model cache"):
            output_directory(out, "--out", command="xcs eval", overwrite=True)
    model = _foreign(tmp_path / "model", "config.json")
    with pytest.raises(ValueError, match=r"overlaps the input --model"):
        output_directory(model / "eval", "--out", command="xcs eval", overwrite=True,
                         inputs=[("--model", model)])


def test_train_refuses_a_foreign_directory_and_resumes_its_own(tmp_path, capsys):
    foreign = _foreign(tmp_path / "eval-out", "metrics.json")
    argv = ["train", "--train-file", str(tmp_path / "missing.jsonl"), "--no-progress"]
    assert main([*argv, "--out", str(foreign)]) == 1
    err = capsys.readouterr().err
    assert f"--out {foreign} is a non-empty directory that `xcs train` did not create" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["metrics.json"]
    run = _foreign(tmp_path / "run", "checkpoint.pt")  # a run of its own (from before the marker)
    assert main([*argv, "--out", str(run)]) == 1
    assert "missing.jsonl" in capsys.readouterr().err  # passed the --out check: failed on the data
    assert main([*argv, "--out", str(foreign), "--overwrite"]) == 1
    assert "missing.jsonl" in capsys.readouterr().err
    model = _foreign(tmp_path / "model", "config.json")
    assert main([*argv, "--model", str(model), "--out", str(model), "--overwrite"]) == 1
    assert f"--out {model} overlaps the input --model {model}" in capsys.readouterr().err


def test_eval_refuses_a_foreign_directory(tmp_path, capsys, eval_argv):
    run = _foreign(tmp_path / "run", "checkpoint.pt")
    assert main([*eval_argv, "--out", str(run)]) == 1
    assert f"--out {run} is a non-empty directory that `xcs eval` did not create" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt"]


def _experiment_inputs(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("name='c'\nbaseline='base'\n[methods.base]\nstrategy='off-the-shelf'\n")
    data = tmp_path / "data"
    (data / "xquad-r").mkdir(parents=True)
    for lang in ("en", "de", "ar", "ru"):
        (data / "xquad-r" / f"{lang}.json").write_text("{}")
    (data / "tatoeba").mkdir()
    return config, data


def test_experiment_refuses_foreign_results_and_work_directories(tmp_path, capsys):
    config, data = _experiment_inputs(tmp_path)
    foreign = _foreign(tmp_path / "mine")
    for option, other in (("--results-dir", "--work-dir"), ("--work-dir", "--results-dir")):
        assert main(["experiment", "--config", str(config), "--data-dir", str(data), option, str(foreign),
                     other, str(tmp_path / "fresh"), "--no-progress"]) == 1
        assert (f"{option} {foreign} is a non-empty directory that `xcs experiment` did not create"
                in capsys.readouterr().err)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_lexicon_build_does_not_clobber_a_file_or_its_input(tmp_path, capsys):
    source = tmp_path / "en-de.txt"
    source.write_text("river fluss\ncastle burg\n")
    out = tmp_path / "out.tsv"
    out.write_text("my lexicon\n")
    build = ["lexicon", "build", "--source", "muse", "--src-lang", "en", "--tgt-lang", "de", "--quiet"]
    assert main([*build, "--input", str(source), "--out", str(out)]) == 1
    assert f"--out {out} already exists" in capsys.readouterr().err
    assert out.read_text() == "my lexicon\n"
    assert main([*build, "--input", str(source), "--out", str(source), "--overwrite"]) == 1
    assert "overlaps the input --input" in capsys.readouterr().err
    assert source.read_text() == "river fluss\ncastle burg\n"
    assert main([*build, "--input", str(source), "--out", str(out), "--overwrite"]) == 0
    assert "fluss" in out.read_text()


def test_convert_never_writes_the_model_cache_or_a_foreign_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "cache"))
    cached = _foreign(tmp_path / "cache" / "models" / "multilingual-e5-small-q4", "config.json")
    assert main(["model", "convert", "--out", str(cached), "--overwrite"]) == 1
    assert "overlaps the model cache" in capsys.readouterr().err
    foreign = _foreign(tmp_path / "mine")
    assert main(["model", "convert", "--out", str(foreign)]) == 1
    assert "non-empty directory that `xcs model convert` did not create" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_bench_evalsuite_refuses_a_foreign_directory(tmp_path, capsys):
    foreign = _foreign(tmp_path / "mine")
    assert main(["bench", "evalsuite", "--model", str(tmp_path / "no-model"), "--out", str(foreign)]) == 1
    assert ("non-empty directory that `xcs bench evalsuite` did not create"
            in capsys.readouterr().err)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
