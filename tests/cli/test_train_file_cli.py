"""``xcs train --train-file``: a user's own pairs, end to end on a tiny offline model, and the flag checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_helpers import save_tiny_model

from xcs.cli import main


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, e5_tokenizer) -> Path:
    """A 2-layer random BERT on the real default tokenizer, saved like any HF checkpoint."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-cli") / "model", e5_tokenizer, 0.0)


def _pairs_file(path: Path, n: int = 8) -> Path:
    rows = [{"question": f"What about item {i}?", "answer": f"Item {i} is described here.",
             "hard": [f"Unrelated filler {i}.", f"Another fact {i}."]} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _train(tmp_path: Path, model: Path | str, *extra: str) -> int:
    """``xcs train`` on an 8-pair JSON Lines file (columns question / answer / hard); its exit status."""
    return main(["train", "--train-file", str(_pairs_file(tmp_path / "pairs.jsonl")),
                 "--query-column", "question", "--positive-column", "answer", "--model", str(model),
                 "--out", str(tmp_path / "run"), "--steps", "2", "--batch-size", "2", "--lr", "1e-3",
                 "--device", "cpu", "--no-progress", *extra])


def test_train_file_end_to_end_on_a_tiny_model(tiny_model_dir, tmp_path, capsys):
    assert _train(tmp_path, tiny_model_dir, "--max-pairs", "6") == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["train_pairs"] == 6 and summary["hard_negatives"] == "none"
    log = json.loads((tmp_path / "run" / "train_log.json").read_text())
    assert len(log["losses"]) == 2 and all(loss > 0 for loss in log["losses"])
    assert (tmp_path / "run" / "model").is_dir()


def test_negative_columns_default_to_the_given_negatives(tiny_model_dir, tmp_path, capsys):
    assert _train(tmp_path, tiny_model_dir, "--negative-columns", "hard") == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["hard_negatives"] == "given" and summary["train_pairs"] == 8
    config = json.loads((tmp_path / "run" / "train_log.json").read_text())["config"]
    assert (config["hard_negatives"], config["num_hard_negatives"]) == ("given", 2)


def test_lora_flags_train_adapters_and_save_a_plain_model(tiny_model_dir, tmp_path, capsys):
    assert _train(tmp_path, tiny_model_dir, "--lora-rank", "4", "--lora-alpha", "8") == 0
    config = json.loads((tmp_path / "run" / "train_log.json").read_text())["config"]
    assert (config["lora_rank"], config["lora_alpha"]) == (4, 8.0)
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "run" / "model" / "model.safetensors"))
    assert saved and not any("lora" in name for name in saved)  # the adapters are merged in


@pytest.mark.parametrize(("extra", "message"), [
    (("--negative-columns", "hard", "--num-hard-negatives", "3"),
     "pairs.jsonl: every pair has 2 hard negative(s) (--negative-columns hard), but --num-hard-negatives "
     "is 3"),
    (("--hard-negatives", "given"), "--hard-negatives given needs --train-file with --negative-columns"),
    (("--hard-negatives", "paragraph"), "draws from SQuAD paragraphs, which --train-file pairs do not have"),
    (("--negative-columns", "missing"), "pairs.jsonl, line 1: no column 'missing' (columns present: "
                                        "['question', 'answer', 'hard'])"),
    (("--lora-rank", "2", "--freeze-layers", "1"), "lora_rank and freeze_layers"),
])
def test_bad_flags_fail_before_the_model_is_loaded(tmp_path, capsys, extra, message):
    assert _train(tmp_path, tmp_path / "no-such-model", *extra) == 1
    assert message in capsys.readouterr().err


def test_file_options_need_train_file(capsys, tmp_path):
    assert main(["train", "--out", str(tmp_path / "unused"), "--negative-columns", "a,b", "--train-split",
                 "dev"]) == 1
    assert "--train-split, --negative-columns: only with --train-file" in capsys.readouterr().err
