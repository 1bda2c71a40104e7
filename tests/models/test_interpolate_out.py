"""``xcs model interpolate --out`` loses nothing (issue 21.1): never a run directory, an input or the
model cache; a failed run leaves no directory behind."""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import BertConfig, BertModel

from xcs.cli import main
from xcs.models.encoder import Encoder


def _interpolate(base, tuned, out, *extra: str) -> int:
    return main(["model", "interpolate", "--base", str(base), "--tuned", str(tuned), "--alpha", "0.5",
                 "--out", str(out), *extra])


def _weights(path) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in Encoder(path).model.state_dict().items()}


@pytest.fixture
def tuned(tiny_bert, tmp_path):
    """A 'fine-tuned' copy of the tiny model: every weight moved."""
    encoder = Encoder(tiny_bert)
    with torch.no_grad():
        for p in encoder.model.parameters():
            p.add_(1.0)
    return encoder.save(tmp_path / "run" / "model")


def test_a_training_run_directory_is_not_overwritten(tiny_bert, tuned, tmp_path, capsys):
    run = tuned.parent
    (run / "checkpoint.pt").write_bytes(b"the run's checkpoint")
    (run / "train_log.json").write_text("{}")
    assert _interpolate(tiny_bert, tuned, run) == 1
    err = capsys.readouterr().err
    assert f"--out {run} overlaps the input --tuned {tuned}" in err  # it holds the tuned model
    assert (run / "checkpoint.pt").read_bytes() == b"the run's checkpoint"
    assert (run / "train_log.json").exists() and (tuned / "config.json").exists()
    assert _interpolate(tiny_bert, tuned, run, "--overwrite") == 1  # not even with --overwrite
    assert (run / "checkpoint.pt").exists()


def test_a_foreign_non_empty_directory_needs_overwrite(tiny_bert, tuned, tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "results.txt").write_text("mine")
    assert _interpolate(tiny_bert, tuned, other) == 1
    assert (f"--out {other} is a non-empty directory that `xcs model interpolate` did not create"
            in capsys.readouterr().err)
    assert (other / "results.txt").read_text() == "mine"
    assert _interpolate(tiny_bert, tuned, other, "--overwrite") == 0  # asked for explicitly
    assert (other / "config.json").exists()


def test_out_equal_to_tuned_or_base_is_refused(tiny_bert, tuned, capsys):
    before = _weights(tuned)
    for out in (tuned, tiny_bert):
        assert _interpolate(tiny_bert, tuned, out, "--overwrite") == 1
        assert "overlaps the input" in capsys.readouterr().err
    after = _weights(tuned)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_model_cache_is_never_written(tiny_bert, tuned, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "cache"))
    cached = tmp_path / "cache" / "models" / "multilingual-e5-small-q4"
    cached.mkdir(parents=True)
    (cached / "config.json").write_text('{"xcs_provenance": "untouched"}')
    for out in (cached, cached.parent, tmp_path / "cache", cached / "inside"):
        assert _interpolate(tiny_bert, tuned, out, "--overwrite") == 1
        assert "overlaps the model cache" in capsys.readouterr().err
    assert sorted(p.name for p in cached.iterdir()) == ["config.json"]
    assert not (cached / "inside").exists()


def test_a_failed_interpolation_leaves_no_directory(tiny_bert, tmp_path, capsys):
    other = Encoder(tiny_bert)
    config = other.model.config.to_dict() | {"num_hidden_layers": other.model.config.num_hidden_layers + 1}
    other.model = BertModel(BertConfig(**config), add_pooling_layer=False)
    deeper = copy.copy(other).save(tmp_path / "deeper")
    out = tmp_path / "new" / "mixed"
    assert _interpolate(tiny_bert, deeper, out) == 1
    assert "not one architecture" in capsys.readouterr().err
    assert not out.exists() and not out.parent.exists()


def test_an_earlier_interpolation_is_replaced(tiny_bert, tuned, tmp_path):
    out = tmp_path / "mixed"
    assert _interpolate(tiny_bert, tuned, out) == 0
    assert main(["model", "interpolate", "--base", str(tiny_bert), "--tuned", str(tuned), "--alpha", "1",
                 "--out", str(out)]) == 0  # its own output: no --overwrite needed
    after, expected = _weights(out), _weights(tuned)
    assert all(torch.equal(after[k], expected[k]) for k in expected)


@pytest.mark.parametrize("which", ["--base", "--tuned"])
@pytest.mark.parametrize("kind", ["missing", "not a model"])
def test_every_input_is_checked_before_any_model_loads(tiny_bert, tuned, tmp_path, monkeypatch, capsys,
                                                       which, kind):
    """Issue 21.1: ``--base`` loaded (minutes for a large model) before ``--tuned`` was found missing."""
    bad = tmp_path / "bad"
    if kind == "not a model":
        bad.mkdir()
        (bad / "notes.txt").write_text("no config.json here")
    loaded = []

    def recording_init(self, model="default", *args, **kwargs):
        loaded.append(model)
        raise AssertionError(f"loaded {model} before every input was checked")

    monkeypatch.setattr(Encoder, "__init__", recording_init)
    base, tuned_path = (bad, tuned) if which == "--base" else (tiny_bert, bad)
    assert _interpolate(base, tuned_path, tmp_path / "mixed") == 1
    err = capsys.readouterr().err
    assert f"error: {which} {bad} " in err
    assert ("does not exist" if kind == "missing" else "no config.json") in err
    assert loaded == []
    assert not (tmp_path / "mixed").exists()
