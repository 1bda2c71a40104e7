"""Bad command lines and bad files: a message naming the flag or the path, never a traceback (issue 12)."""

from __future__ import annotations

import pytest

from xcs.cli import main


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--out", "OUT", "--max-pairs", "0"],
     "argument --max-pairs: Input should be greater than or equal to 1 (got '0')"),
    (["train", "--out", "OUT", "--max-pairs", "-5"],
     "argument --max-pairs: Input should be greater than or equal to 1 (got '-5')"),
    (["train", "--out", "OUT", "--weights", "a,b"], "argument --weights: 'a' is not a number"),
    (["train", "--out", "OUT", "--weights", "1,nan"],
     "argument --weights: item 2 (nan): Input should be a finite number"),
    (["train", "--out", "OUT", "--languages", "de,DE"],
     "argument --languages: item 2 ('DE'): String should match pattern"),
    (["train", "--out", "OUT", "--steps", "0"],
     "argument --steps: Input should be greater than or equal to 1 (got '0')"),
    (["lexicon", "eval", "x.tsv", "--gold", "y.tsv", "--restrict-to-top", "0"],
     "argument --restrict-to-top: must be an integer >= 1"),
    (["experiment", "--config", "c.toml", "--seeds", "0,x"], "argument --seeds: must be an integer >= 0"),
    (["compare", "a", "b", "--permutations", "0"], "argument --permutations: must be an integer >= 1"),
])
def test_bad_values_name_their_flag(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / a) if a == "OUT" else a for a in argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_eval_options_are_checked_by_their_schema_before_any_work(capsys, tmp_path):
    # xcs eval's options are generated from EvalOptions and checked by its field types as they are read
    with pytest.raises(SystemExit):
        main(["eval", "--out", str(tmp_path / "out"), "--subsample", "0"])
    assert ("argument --subsample: Input should be greater than or equal to 1 (got '0')"
            in capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_outputs_are_checked_before_any_work(capsys, tmp_path, eval_argv):
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert main([*eval_argv, "--out", str(a_file)]) == 1
    assert f"xcs eval: error: --out {a_file} is a file, not a directory" in capsys.readouterr().err
    assert main(["train", "--out", str(a_file), "--train-file", str(tmp_path / "pairs.jsonl")]) == 1
    assert f"--out {a_file} is a file" in capsys.readouterr().err
    assert main(["lexicon", "build", "--source", "muse", "--src-lang", "en", "--tgt-lang", "de",
                 "--out", str(tmp_path)]) == 1
    assert f"--out {tmp_path} is a directory; give a file name" in capsys.readouterr().err


def test_corrupt_run_record_names_its_path(capsys, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("name='c'\nbaseline='base'\n[methods.base]\nstrategy='off-the-shelf'\n")
    record = tmp_path / "results" / "runs" / "base" / "seed0" / "run.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"status": "do')  # cut off mid-write by something other than xcs
    data = tmp_path / "data"
    (data / "xquad-r").mkdir(parents=True)
    for lang in ("en", "de", "ar", "ru"):
        (data / "xquad-r" / f"{lang}.json").write_text("{}")
    (data / "tatoeba").mkdir()
    code = main(["experiment", "--config", str(config), "--data-dir", str(data), "--results-dir",
                 str(tmp_path / "results"), "--work-dir", str(tmp_path / "work"), "--no-progress"])
    assert code == 1
    assert f"run record {record} is unreadable or corrupt" in capsys.readouterr().err


def test_a_read_only_output_is_named(monkeypatch, tmp_path):
    from pathlib import Path

    from xcs.io.paths import output_directory

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "touch", refuse)  # as root a chmod would not stop the write
    with pytest.raises(ValueError, match=r"--out .* is not a writable directory \(Permission denied\)"):
        output_directory(tmp_path / "out", "--out")


def test_corrupt_metrics_file_names_its_path(tmp_path):
    from xcs.io.paths import read_json

    path = tmp_path / "metrics.json"
    path.write_text("{\"moir\": ")
    with pytest.raises(ValueError, match=r"metrics file .*metrics.json is unreadable or corrupt"):
        read_json(path, "metrics file")
    with pytest.raises(FileNotFoundError, match="metrics file .*missing.json does not exist"):
        read_json(tmp_path / "missing.json", "metrics file")
