"""Issue 21.8: the Python API of the loss checks every argument by one rule for every
implementation: no bool or string is coerced to a number, a non-tensor input is a TypeError naming
it, and a temperature too small for float32 is refused by all of them alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xcs.loss.api import MIN_TEMPERATURE, ContrastiveLoss, contrastive_loss

IMPLS = ["chunked", "eager", "triton"]


def _inputs():
    generator = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(3, 4, generator=generator), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(3, 4, generator=generator), dim=-1)
    return q, d


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"temperature": "0.05"}, TypeError,
     "temperature must be a real number or a 0-dim floating tensor, got str"),
    ({"temperature": True}, TypeError, "temperature must be a real number .*got bool True"),
    ({"temperature": torch.tensor([0.05])}, TypeError, r"temperature must be .*shape \(1,\)"),
    ({"temperature": torch.tensor(1)}, TypeError, "temperature must be .*torch.int64"),
    ({"temperature": 1e-45}, ValueError, "temperature must be positive, finite and >= 1e-06"),
    ({"temperature": float("nan")}, ValueError, "temperature must be positive"),
    ({"temperature": math.inf}, ValueError, "temperature must be positive"),
    ({"margin": "0.1"}, TypeError, "margin must be a real number, got str"),
    ({"margin": True}, TypeError, "margin must be a real number, got bool"),
    ({"margin": math.nan}, ValueError, "margin must be finite"),
    ({"margin": 5.7e36}, ValueError, r"margin must be finite and in \[-1000, 1000\]"),  # the loss was inf
    ({"symmetric": "yes"}, TypeError, "symmetric must be True or False"),
    ({"symmetric": 1}, TypeError, "symmetric must be True or False"),
    ({"gather": 0}, TypeError, "gather must be True or False"),
    ({"reduction": ["mean"]}, ValueError, "reduction must be one of"),
    ({"chunk_size": 2.5}, TypeError, "chunk_size must be an integer"),
    ({"chunk_size": 0}, ValueError, "chunk_size must be >= 1"),
    ({"labels": [0, 1, 2]}, TypeError, "labels must be a torch.Tensor or None, got list"),
    ({"false_negative_ids": np.arange(3)}, TypeError, "false_negative_ids must be a torch.Tensor or None"),
    ({"false_negative_ids": torch.tensor([True, False, True])}, ValueError, "false_negative_ids must be"),
])
def test_arguments_are_checked_alike_in_every_impl(impl, kwargs, error, message):
    q, d = _inputs()
    with pytest.raises(error, match=message):
        contrastive_loss(q, d, impl=impl, **kwargs)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("convert", [lambda t: t.numpy(), lambda t: t.tolist()])
@pytest.mark.parametrize("which", ["q", "d"])
def test_non_tensor_embeddings_are_a_type_error(impl, convert, which):
    # they failed with "AttributeError: 'numpy.ndarray' object has no attribute 'dim'"
    q, d = _inputs()
    args = {"q": q, "d": d}
    args[which] = convert(args[which])
    with pytest.raises(TypeError, match=f"{which} must be a torch.Tensor, got"):
        contrastive_loss(args["q"], args["d"], impl=impl)


@pytest.mark.parametrize("impl", IMPLS)
def test_smallest_temperature_is_finite_everywhere(impl):
    q, d = _inputs()
    loss = contrastive_loss(q, d, temperature=MIN_TEMPERATURE, impl=impl)
    assert torch.isfinite(loss)
    reference = contrastive_loss(q.double(), d.double(), temperature=MIN_TEMPERATURE, impl="eager")
    torch.testing.assert_close(loss.double(), reference, rtol=1e-4, atol=1e-2)
    # numpy scalars are real numbers; the result does not change dtype
    assert contrastive_loss(q, d, temperature=np.float64(0.05), margin=np.float32(0.1),
                            impl=impl).dtype == torch.float32


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), [
    (("0.05",), {}, TypeError, "temperature must be a real number"),  # was "'>' not supported"
    ((True,), {}, TypeError, "temperature must be a real number"),
    ((1e-45,), {}, ValueError, "temperature must be positive, finite and >= 1e-06"),
    ((), {"margin": "0.1"}, TypeError, "margin must be a real number"),
    ((), {"learnable_temperature": "yes"}, TypeError, "learnable_temperature must be True or False"),
    ((), {"symmetric": None}, TypeError, "symmetric must be True or False"),
    ((), {"reduction": "avg"}, ValueError, "reduction must be one of"),
    ((), {"impl": "gpu"}, ValueError, "impl must be one of"),
])
def test_module_checks_its_arguments_at_construction(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        ContrastiveLoss(*args, **kwargs)


def test_module_accepts_numbers_and_tensors():
    q, d = _inputs()
    for temperature in (0.05, 1, np.float32(0.05), torch.tensor(0.05)):
        assert torch.isfinite(ContrastiveLoss(temperature)(q, d))
