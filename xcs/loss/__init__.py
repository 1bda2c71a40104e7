"""The fused contrastive (InfoNCE) loss.

- :mod:`xcs.loss.api` — :func:`~xcs.loss.api.contrastive_loss` and
  :class:`~xcs.loss.api.ContrastiveLoss`, the public entry points.
- :mod:`xcs.loss.function` — the autograd function and its parameters.
- :mod:`xcs.loss.torch_backends` — the eager reference and the chunked PyTorch backend.
- :mod:`xcs.loss.distributed` — all-gather with gradient for ``gather=True``.
- :mod:`xcs.loss.mnrl` — a sentence-transformers ``MultipleNegativesRankingLoss`` drop-in.

The Triton kernels live in the top-level ``kernels/`` directory, shipped as ``xcs.kernels``.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "ContrastiveLoss": "xcs.loss.api",
    "contrastive_loss": "xcs.loss.api",
    "MultipleNegativesRankingLoss": "xcs.loss.mnrl",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
