"""The counter-based random draws of the code-switching engine, in plain Python.

Bit-identical to ``csrc/core/rng.hpp`` and ``xcs.switching.numba_engine`` (which takes its
constants from here): a draw depends only on
(seed, epoch, example index, word-unit index, stream), never on threads or batch splits. The
baselines use these functions to reproduce a fixed draw of the engine, and tests use them as the
specification.
"""

from __future__ import annotations

import bisect
import math

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
GOLDEN2 = 0xD1B54A32D192ED03
MIX_MULTIPLIER_1 = 0xBF58476D1CE4E5B9  # splitmix64's finaliser multipliers
MIX_MULTIPLIER_2 = 0x94D049BB133111EB
ONE53 = 1 << 53  # probabilities live on a 53-bit integer scale

STREAM_COIN = 0
STREAM_LANGUAGE = 1
STREAM_CANDIDATE = 2
# The per-example draws (CodeSwitcher's language_per="example" and example_p) use their own stream:
# unit * 4 + stream + 1 of the three engine streams is never a multiple of 4, so these draws are
# independent of every per-unit draw. Unit 0: the example's language; unit 1: whether it switches.
STREAM_EXAMPLE = 3


def mix64(z: int) -> int:
    """splitmix64 finaliser."""
    z &= MASK64
    z ^= z >> 30
    z = (z * MIX_MULTIPLIER_1) & MASK64
    z ^= z >> 27
    z = (z * MIX_MULTIPLIER_2) & MASK64
    return z ^ (z >> 31)


def example_key(seed: int, epoch: int, example: int) -> int:
    inner = (mix64(seed + GOLDEN) + epoch * GOLDEN2) & MASK64
    return mix64((mix64(inner) + example * GOLDEN) & MASK64)


def draw(key: int, unit: int, stream: int) -> int:
    return mix64((key + (unit * 4 + stream + 1) * GOLDEN) & MASK64)


def probability_threshold(p: float) -> int:
    """Integer threshold of probability ``p``: the coin is ``draw >> 11 < threshold``."""
    return ONE53 if p >= 1.0 else int(p * ONE53)


def language_thresholds(weights: list[float]) -> list[int]:
    """Cumulative integer thresholds of normalised language weights; the last one is ``2**53``."""
    total = float(sum(weights))
    if not weights or not all(math.isfinite(w) and w >= 0 for w in weights) or not total > 0:
        raise ValueError(f"language weights must be finite, non-negative and have a positive sum, "
                         f"got {weights}")
    if total == math.inf:  # finite weights whose sum overflows (1e308 + 1e308): scale them first
        weights = [w / max(weights) for w in weights]
        total = float(sum(weights))
    cumulative, running = [], 0.0
    for w in weights:
        running += w
        cumulative.append(min(ONE53, int(running / total * ONE53)))
    cumulative[-1] = ONE53
    return cumulative


def example_language(seed: int, epoch: int, example: int, cumulative: list[int]) -> int:
    """Index of the language drawn for a whole example from cumulative thresholds
    (:func:`language_thresholds`), by the engine's per-unit rule (first ``d < cumulative[k]``)."""
    d = draw(example_key(seed, epoch, example), 0, STREAM_EXAMPLE) >> 11
    return bisect.bisect_right(cumulative, d)


def example_switches(seed: int, epoch: int, example: int, p: float) -> bool:
    """Whether a whole example is code-switched, with probability ``p`` (the engine's coin rule)."""
    return (draw(example_key(seed, epoch, example), 1, STREAM_EXAMPLE) >> 11) < probability_threshold(p)


def uniform_index(d: int, m: int) -> int:
    """Index in ``[0, m)`` from the high 32 bits of a draw."""
    return ((d >> 32) * m) >> 32


def choose(seed: int, epoch: int, example: int, unit: int, p: float, n_candidates: int) -> int | None:
    """The bilingual decision for one word unit found in the lexicon: candidate index or None."""
    key = example_key(seed, epoch, example)
    if (draw(key, unit, STREAM_COIN) >> 11) >= probability_threshold(p):
        return None
    return uniform_index(draw(key, unit, STREAM_CANDIDATE), n_candidates)
