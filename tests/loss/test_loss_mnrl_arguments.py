"""xcs.MultipleNegativesRankingLoss checks its arguments at construction like xcs.contrastive_loss
checks its temperature (issue 21): ``scale="20"`` failed raw at the first step (``1.0 / "20"``), a
bool was taken for 1, NaN passed ``not scale > 0``'s reverse and gave a NaN loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xcs.loss.api import MIN_TEMPERATURE
from xcs.loss.mnrl import MultipleNegativesRankingLoss, check_scale


@pytest.mark.parametrize("scale", ["20", b"20", True, False, np.bool_(True), None, [20.0], 20j,
                                   torch.tensor(20.0)])
def test_a_scale_that_is_not_a_real_number_is_a_type_error(scale):
    with pytest.raises(TypeError, match="scale must be a real number"):
        MultipleNegativesRankingLoss(None, scale=scale)


@pytest.mark.parametrize("scale", [0.0, -1.0, -20, math.nan, math.inf, -math.inf, 2 / MIN_TEMPERATURE, 1e999,
                                   5e-324])
def test_a_scale_out_of_range_is_a_value_error(scale):
    with pytest.raises(ValueError, match="scale must be positive"):
        MultipleNegativesRankingLoss(None, scale=scale)


@pytest.mark.parametrize("scale", [20, 20.0, np.float32(10.0), np.int64(5), 1 / MIN_TEMPERATURE, 1e-3])
def test_a_real_scale_is_a_float_and_gives_a_finite_loss(scale):
    loss = MultipleNegativesRankingLoss(None, scale=scale, impl="eager")
    assert type(loss.scale) is float and loss.scale == check_scale(scale) == float(scale)
    g = torch.Generator().manual_seed(0)
    columns = [torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)]
    value = loss.compute_loss_from_embeddings(columns)
    assert torch.isfinite(value)


@pytest.mark.parametrize(("option", "value", "error"), [
    ("symmetric", "no", TypeError), ("symmetric", 1, TypeError), ("gather_across_devices", "yes", TypeError),
    ("impl", "bogus", ValueError), ("similarity", None, ValueError), ("similarity", "l2", ValueError)])
def test_the_other_options_are_checked_at_construction(option, value, error):
    with pytest.raises(error, match=option):
        MultipleNegativesRankingLoss(None, **{option: value})
