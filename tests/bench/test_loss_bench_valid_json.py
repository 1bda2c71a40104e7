"""Issue 21.3: the loss benchmark's JSON (rewritten after every case) stays valid JSON when an
implementation returns NaN: the value is null and the case fails its value check."""

from __future__ import annotations

import json

import torch

from xcs.bench.loss import LossSweep
from xcs.io.atomic import write_json_atomic


def _tensors(value: float):
    q, d = torch.ones(2, 3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    q.grad, d.grad = torch.full((2, 3), value), torch.full((2, 3), value)
    return torch.tensor(value), q, d


def test_a_nan_loss_is_recorded_as_null(tmp_path):
    sweep = LossSweep.__new__(LossSweep)
    sweep.dtype = "fp32"
    reference: dict = {}
    first = sweep._value_check("eager", *_tensors(1.0), reference)
    broken = sweep._value_check("triton", *_tensors(float("nan")), reference)
    assert first["loss"] == 1.0 and broken["loss"] is None and broken["loss_rel_err"] is None
    assert broken["values_ok"] is False
    write_json_atomic({"results": [first, broken]}, tmp_path / "loss.json")  # used to stop the sweep
    json.loads((tmp_path / "loss.json").read_text())
