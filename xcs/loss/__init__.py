"""The fused contrastive (InfoNCE) loss.

- :mod:`xcs.loss.api` — :func:`~xcs.loss.api.contrastive_loss` and
  :class:`~xcs.loss.api.ContrastiveLoss`, the public entry points.
- :mod:`xcs.loss.function` — the autograd function and its parameters.
- :mod:`xcs.loss.torch_backends` — the eager reference and the chunked PyTorch backend.
- :mod:`xcs.loss.distributed` — all-gather with gradient for ``gather=True``.
- :mod:`xcs.loss.mnrl` — a sentence-transformers ``MultipleNegativesRankingLoss`` drop-in.

The Triton kernels live in the top-level ``kernels/`` directory, shipped as ``xcs.kernels``.
"""
