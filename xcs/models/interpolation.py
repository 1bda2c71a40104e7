"""Weight-space interpolation of a fine-tuned encoder with its starting point (WiSE-FT,
Wortsman et al. 2022): ``theta = (1 - alpha) * theta_0 + alpha * theta_1``. An alpha sweep costs
evaluations only, and moves a model along the trade-off between what fine-tuning gained
(cross-lingual ranking) and what it cost (monolingual retrieval)."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from xcs.models.encoder import Encoder


def check_alpha(alpha: object) -> float:
    """``alpha`` as a float: a real number (not a bool or a string; else a TypeError), finite and in
    [0, 1] (else a ValueError), by the type that checks a config's ``alpha`` and ``xcs model
    interpolate --alpha`` (:data:`xcs.schema.Probability`), so all three accept the
    same values."""
    from pydantic import TypeAdapter, ValidationError

    from xcs.schema import Probability

    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real) or not math.isfinite(alpha):
        raise TypeError(f"alpha must be a finite number, got {alpha!r}")
    try:
        return TypeAdapter(Probability).validate_python(float(alpha), strict=True)
    except ValidationError:
        raise ValueError(f"alpha must be a finite number in [0, 1] (0: the base, 1: the tuned encoder), got "
                         f"{alpha!r}") from None


def interpolate(base: Encoder, tuned: Encoder, alpha: float) -> Encoder:
    """``tuned`` with its weights replaced, in place, by ``(1 - alpha) * base + alpha * tuned``.

    ``alpha`` must be a finite number in [0, 1], as in a config or on the command line
    (:func:`check_alpha`). Both encoders must have the same architecture (every parameter and buffer
    name and shape); ``alpha = 0`` gives the base weights, ``1`` the tuned ones. Floating tensors are
    mixed in float32 or wider (float64 stays float64); integer buffers (position ids) must agree and
    are kept.
    """
    alpha = check_alpha(alpha)
    base_state, tuned_state = base.model.state_dict(), tuned.model.state_dict()
    if base_state.keys() != tuned_state.keys():
        missing = sorted(base_state.keys() ^ tuned_state.keys())[:5]
        raise ValueError(f"the encoders have different weights (e.g. {missing}): not one architecture")
    mixed = {}
    for name, theta_1 in tuned_state.items():
        theta_0 = base_state[name].to(theta_1.device)
        if theta_0.shape != theta_1.shape:
            raise ValueError(f"{name}: shape {tuple(theta_0.shape)} in the base, "
                             f"{tuple(theta_1.shape)} in the tuned encoder")
        if not theta_1.is_floating_point():
            if not torch.equal(theta_0, theta_1):
                raise ValueError(f"{name}: the integer buffers differ")
            mixed[name] = theta_1
            continue
        wide = torch.promote_types(theta_1.dtype, torch.float32)
        mixed[name] = ((1.0 - alpha) * theta_0.to(wide) + alpha * theta_1.to(wide)).to(theta_1.dtype)
    tuned.model.load_state_dict(mixed)
    return tuned
