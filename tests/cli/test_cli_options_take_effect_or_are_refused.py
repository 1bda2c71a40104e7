"""Issue 21.4-6 on the command line: every option takes effect or is refused with a message naming it,
before any model loads; a bad file is named, never a traceback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xcs.cli import main


def _pairs(path: Path, n: int = 8) -> Path:
    path.write_text("".join(json.dumps({"query": f"What about item {i}?", "positive": f"Item {i} is here."})
                            + "\n" for i in range(n)), encoding="utf-8")
    return path


def _train(tmp_path: Path, *extra: str, train_file: Path | None = None) -> int:
    return main(["train", "--train-file", str(train_file or _pairs(tmp_path / "pairs.jsonl")), "--model",
                 str(tmp_path / "no-such-model"), "--out", str(tmp_path / "run"), "--steps", "2",
                 "--batch-size", "2", "--device", "cpu", "--no-progress", *extra])


@pytest.mark.parametrize(("extra", "message"), [
    (("--p", "0.5"), "--p: code-switching options, which need --languages"),
    (("--sides", "query", "--skip-stopwords", "--no-keep-case"),
     "--sides, --no-keep-case, --skip-stopwords: code-switching options, which need --languages"),
    (("--example-p", "0"), "--example-p: code-switching options"),
    (("--positive-column", "query"), "query_column and positive_column (--query-column / --positive-column) "
                                     "are both 'query'"),
    (("--train-split", "bogus"), "split= / --train-split 'bogus' applies to a saved DatasetDict only"),
])
def test_options_that_would_be_ignored_are_refused(tmp_path, capsys, extra, message):
    assert _train(tmp_path, *extra) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_truncated_gzip_training_file_is_named(tmp_path, capsys):
    data = gzip.compress(_pairs(tmp_path / "pairs.jsonl", 400).read_bytes())
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(data[: len(data) // 2])
    assert _train(tmp_path, train_file=broken) == 1
    assert f"xcs train: error: {broken}: corrupt or truncated gzip file" in capsys.readouterr().err


@pytest.mark.parametrize("alpha", ["nan", "inf", "1.5", "-0.5", "x"])
def test_interpolate_alpha_is_checked_before_any_model_loads(tmp_path, capsys, alpha):
    """As a config's alpha: a finite number in [0, 1] (``nan`` used to fail after both models loaded)."""
    with pytest.raises(SystemExit) as exit_:
        main(["model", "interpolate", "--base", str(tmp_path / "no-base"), "--tuned",
              str(tmp_path / "no-tuned"), "--alpha", alpha, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert f"argument --alpha: must be a finite number in [0, 1], got '{alpha}'" in capsys.readouterr().err


def test_cli_and_config_accept_the_same_alphas():
    import argparse

    from pydantic import TypeAdapter

    from xcs.cli.arguments import probability
    from xcs.schema import Probability

    for text in ("0", "0.25", "1", "1e-3", "1.5", "-0.5", "nan", "-inf", "1.0000001"):
        try:
            TypeAdapter(Probability).validate_python(float(text))
            config_ok = True
        except ValueError:
            config_ok = False
        try:
            probability(text)
            cli_ok = True
        except argparse.ArgumentTypeError:
            cli_ok = False
        assert cli_ok == config_ok, text


@pytest.mark.parametrize("extra", [("--p", "0.5"), ("--p", "1.5"), ("--train-split", "bogus"),
                                   ("--positive-column", "query"), ("--lr", "nan"), ("--steps", "0"),
                                   ("--lora-rank", "2", "--freeze-layers", "1")])
def test_flag_refusals_come_before_anything_is_created(tmp_path, capsys, extra):
    try:
        status = _train(tmp_path, *extra)
    except SystemExit as exc:  # a value its field's type refuses: argparse stops as it reads it
        status = exc.code
    assert status in (1, 2)
    assert not (tmp_path / "run").exists()
