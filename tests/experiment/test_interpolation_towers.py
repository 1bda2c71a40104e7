"""WiSE-FT of a base trained with separate towers (issue 21.2): both towers are interpolated and
evaluated as a dual encoder, so alpha = 1 is the base exactly and alpha = 0 the untouched model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import save_tiny_model

from xcs.experiment import runner as experiment
from xcs.experiment.config import load_config
from xcs.models.encoder import Encoder

TEXTS = ["What about the river 3?", "The castle number 4 is described here.", "Another fact about item 7."]


def _perturbed(model: Path, out: Path, seed: int) -> Path:
    encoder = Encoder(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in encoder.model.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=generator))
    return encoder.save(out)


@pytest.fixture(scope="module")
def separate_towers_base(tmp_path_factory, e5_tokenizer):
    """A config whose interpolated base was trained with shared_towers = false, and that base's saved
    towers (two different perturbations of the untouched tiny model) in the work directory."""
    tmp_path = tmp_path_factory.mktemp("wise-towers")
    model = save_tiny_model(tmp_path / "tiny", e5_tokenizer, 0.0)
    config = tmp_path / "wise.toml"
    config.write_text(f"""
name = "wise"
model = "{model}"
baseline = "separate"
[eval]
tasks = ["moir"]
[methods.separate]
strategy = "zero-shot"
train = {{ shared_towers = false }}
[methods.wise]
strategy = "interpolate"
base = "separate"
alpha_sweep = [0.0, 1.0]
""", encoding="utf-8")
    work = tmp_path / "work"
    base = work / "separate" / "seed0"
    _perturbed(model, base / "model", seed=1)
    _perturbed(model, base / "model-documents", seed=2)
    return load_config(config), model, base, work


def _evaluated_encoder(monkeypatch, config, method, work, tmp_path):
    """What ``run_one`` hands the evaluation for ``method`` at seed 0."""
    seen = []
    monkeypatch.setattr(experiment, "_evaluate", lambda encoder, *args, **kwargs: seen.append(encoder) or {})
    experiment.run_one(config, config.methods[method], 0, results_dir=tmp_path / "results", work_dir=work,
                       data_dir=tmp_path, pairs=[], progress=False)
    (encoder,) = seen
    return encoder


def test_alpha_one_is_the_separate_towers_base_and_alpha_zero_the_untouched_model(
        separate_towers_base, monkeypatch, tmp_path):
    config, model, base, work = separate_towers_base
    query_tower, document_tower = Encoder(base / "model"), Encoder(base / "model-documents")
    untouched = Encoder(model)
    at_one = _evaluated_encoder(monkeypatch, config, "wise@alpha=1", work, tmp_path)
    assert np.array_equal(at_one.encode(TEXTS, kind="query"), query_tower.encode(TEXTS, kind="query"))
    assert np.array_equal(at_one.encode(TEXTS, kind="passage"), document_tower.encode(TEXTS, kind="passage"))
    at_zero = _evaluated_encoder(monkeypatch, config, "wise@alpha=0", work, tmp_path)
    for kind in ("query", "passage"):
        assert np.array_equal(at_zero.encode(TEXTS, kind=kind), untouched.encode(TEXTS, kind=kind))
    # the towers really differ: evaluating the query tower alone (what happened before) is another model
    assert not np.allclose(at_one.encode(TEXTS, kind="passage"), query_tower.encode(TEXTS, kind="passage"))


def test_a_missing_document_tower_is_named(separate_towers_base, monkeypatch, tmp_path):
    config, _, base, _ = separate_towers_base
    work = tmp_path / "work"
    (work / "separate" / "seed0").mkdir(parents=True)
    (work / "separate" / "seed0" / "model").symlink_to(base / "model")  # no model-documents beside it
    with pytest.raises(FileNotFoundError, match=r"document tower of the 'separate' model of seed 0 at .*"
                                                r"model-documents \(it was trained with separate towers\)"):
        _evaluated_encoder(monkeypatch, config, "wise@alpha=1", work, tmp_path)


def test_the_command_line_refuses_to_interpolate_one_tower_of_two(separate_towers_base, tmp_path, capsys):
    from xcs.cli import main

    _, model, base, _ = separate_towers_base
    out = tmp_path / "mixed"
    assert main(["model", "interpolate", "--base", str(model), "--tuned", str(base / "model"), "--alpha", "1",
                 "--out", str(out)]) == 1
    assert "is the query tower of a run trained with separate towers" in capsys.readouterr().err
    assert not out.exists()
