"""hard_negatives = "given": each pair's own TrainPair.negatives reach the batch builder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xcs.data.pairs import TrainPair
from xcs.training.batch import TokenBatch, Tokens
from xcs.training.config import TrainConfig
from xcs.training.loop import _micro_batch
from xcs.training.negatives import given_negatives

PAIRS = [TrainPair(f"query {i}", f"positive {i}", negatives=(f"neg {i}a", f"neg {i}b")) for i in range(6)]


class _Recorder:
    """A batch builder that records what it is given and returns an empty-ish batch."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[TrainPair], list[list[str]]]] = []

    def __call__(self, pairs, negatives, example_ids, epoch, step) -> TokenBatch:
        self.calls.append((list(pairs), [list(row) for row in negatives]))
        ids = torch.zeros((len(pairs), 1), dtype=torch.long)
        tokens = Tokens(ids, torch.ones_like(ids))
        return TokenBatch(tokens, tokens, torch.arange(len(pairs)))


def test_config_accepts_given_and_needs_at_least_one_negative():
    assert TrainConfig(hard_negatives="given", num_hard_negatives=2).hard_negatives_per_query == 2
    with pytest.raises(ValueError, match="num_hard_negatives must be >= 1"):
        TrainConfig(hard_negatives="given", num_hard_negatives=0)
    with pytest.raises(ValueError, match=r"hard_negatives\n  Input should be .*'given'"):
        TrainConfig(hard_negatives="own")


def test_given_negatives_are_each_pairs_own_and_their_number_is_checked():
    assert given_negatives(PAIRS, np.array([4, 1]), k=2) == [["neg 4a", "neg 4b"], ["neg 1a", "neg 1b"]]
    with pytest.raises(ValueError, match=r"training pair 3 has 2 hard negative\(s\).*num_hard_negatives = 1"):
        given_negatives(PAIRS, np.array([3]), k=1)
    with pytest.raises(ValueError, match=r"training pair 0 has 0 hard negative\(s\)"):
        given_negatives([TrainPair("q", "p")], np.array([0]), k=1)


def test_micro_batch_feeds_the_given_negatives_to_the_builder():
    recorder = _Recorder()
    config = TrainConfig(steps=1, batch_size=3, hard_negatives="given", num_hard_negatives=2)
    _micro_batch(PAIRS, recorder, None, config, step=0, micro_step=0, rank=0, world_size=1,
                 device=torch.device("cpu"))
    [(pairs, negatives)] = recorder.calls
    assert len(pairs) == 3
    assert negatives == [list(p.negatives) for p in pairs]
