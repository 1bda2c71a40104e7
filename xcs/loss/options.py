"""The loss's option vocabulary, importable without torch (the schemas and the command line read it)."""

from __future__ import annotations

from typing import Literal, get_args

Reduction = Literal["mean", "sum", "none"]
Impl = Literal["auto", "triton", "triton_gemm", "chunked", "eager"]
REDUCTIONS = get_args(Reduction)
IMPLS = get_args(Impl)

# The smallest temperature accepted: 1/tau and the logits of unit vectors (<= 1/tau) stay far from
# float32's overflow (3.4e38), so every implementation computes the same finite loss or none at all.
MIN_TEMPERATURE = 1e-6
