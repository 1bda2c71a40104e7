"""WiSE-FT interpolation of two encoders of one architecture."""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import BertConfig, BertModel

from xcs.models.encoder import Encoder
from xcs.models.interpolation import interpolate


def test_alpha_mixes_every_floating_weight(tiny_bert):
    base = Encoder(tiny_bert)
    tuned = Encoder(tiny_bert)
    with torch.no_grad():
        for p in tuned.model.parameters():
            p.add_(1.0)
    before = copy.deepcopy(tuned.model.state_dict())
    mixed = interpolate(base, copy.deepcopy(tuned), 0.25).model.state_dict()
    for name, value in base.model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(mixed[name], 0.75 * value + 0.25 * before[name])
        else:
            assert torch.equal(mixed[name], value)
    at_zero = interpolate(base, copy.deepcopy(tuned), 0.0).model.state_dict()
    assert all(torch.equal(at_zero[n], v) for n, v in base.model.state_dict().items())


def test_different_architectures_and_bad_alpha_are_refused(tiny_bert):
    base = Encoder(tiny_bert)
    with pytest.raises(TypeError, match="alpha must be a finite number"):
        interpolate(base, Encoder(tiny_bert), float("nan"))
    for alpha in (True, "0.5", None, torch.tensor(0.5)):
        with pytest.raises(TypeError, match="alpha must be a finite number"):
            interpolate(base, Encoder(tiny_bert), alpha)
    # issue 21.1: the library accepted any finite alpha (1.5 extrapolates) while the CLI and a config
    # accept [0, 1]; the one check (xcs.schema.Probability) now holds for all three
    for alpha in (1.5, -0.1, 1 + 1e-9, -1e-300, 1e300):
        with pytest.raises(ValueError, match=r"alpha must be a finite number in \[0, 1\]"):
            interpolate(base, Encoder(tiny_bert), alpha)
    other = copy.copy(base)
    config = base.model.config.to_dict() | {"num_hidden_layers": base.model.config.num_hidden_layers + 1}
    other.model = BertModel(BertConfig(**config), add_pooling_layer=False)
    with pytest.raises(ValueError, match="not one architecture"):
        interpolate(base, other, 0.5)


def test_alpha_is_checked_by_the_configs_type():
    import numpy as np
    from pydantic import TypeAdapter

    from xcs.cli.arguments import probability
    from xcs.models.interpolation import check_alpha
    from xcs.schema import Probability

    for alpha in (0, 1, 0.0, 0.25, 1.0, np.float32(0.5), np.float64(1.0)):
        assert check_alpha(alpha) == TypeAdapter(Probability).validate_python(float(alpha)) == probability(
            str(float(alpha)))
        assert type(check_alpha(alpha)) is float


def test_cli_writes_the_interpolated_checkpoint(tiny_bert, tmp_path, capsys):
    from xcs.cli import main

    assert main(["model", "interpolate", "--base", str(tiny_bert), "--tuned", str(tiny_bert),
                 "--alpha", "0.5", "--out", str(tmp_path / "mixed")]) == 0
    mixed = Encoder(tmp_path / "mixed")
    reference = Encoder(tiny_bert)
    assert all(torch.equal(a, b) for a, b in zip(mixed.model.state_dict().values(),
                                                 reference.model.state_dict().values(), strict=True))
