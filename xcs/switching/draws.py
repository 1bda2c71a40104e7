"""Which draw each example of a collated batch gets: ``(seed, epoch, example index)``.

A collator's switch pattern must never repeat by accident. With an index column the draw index is
that column (deterministic under shuffling, batching and worker splits) and the epoch comes from
:meth:`DrawIndex.set_epoch`. Without one, every process that collates (the main process and each
``DataLoader`` worker) counts its own examples in a slot of a shared-memory counter: the draw index
is ``count * MAX_SLOTS + slot``, so two workers never share an index, and because the counters
survive the worker copies a ``DataLoader`` makes for every epoch, a second epoch continues where the
first stopped instead of repeating it.

The epoch lives in shared memory too, so ``set_epoch`` reaches persistent workers. Under a fork or
spawn start method the shared tensors travel with the collator (torch's multiprocessing pickler
shares their storage); plain ``pickle`` copies them.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

# Slot 0: the main process; slot w + 1: DataLoader worker w.
MAX_SLOTS = 1024
# Draw indices stay below this (the document side adds DOCUMENT_INDEX_OFFSET = 2**40).
MAX_EXAMPLE_INDEX = 1 << 40


def _slot() -> int:
    info = torch.utils.data.get_worker_info()
    if info is None:
        return 0
    if info.id + 1 >= MAX_SLOTS:
        raise ValueError(f"at most {MAX_SLOTS - 1} DataLoader workers can collate without an index column "
                         f"(worker {info.id}); add an index column to the dataset")
    return info.id + 1


def check_example_index(value: Any, position: int, key: str) -> int:
    """``value`` as an example index: an integer (not bool, not float) in ``[0, 2**40)``."""
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        value = value.item()  # a 0-d array from a formatted dataset; a float one fails below
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"feature {position}: {key!r} must be an integer example index, "
                        f"got {type(value).__name__} {value!r}")
    index = int(value)
    if not 0 <= index < MAX_EXAMPLE_INDEX:
        raise ValueError(f"feature {position}: {key!r} = {index} is outside [0, 2**40)")
    return index


class DrawIndex:
    """Draw indices and the epoch of one collator (see the module docstring).

    Args:
        index_key: the feature key holding each example's index (used when every feature has it).
    """

    def __init__(self, index_key: str = "index") -> None:
        self.index_key = index_key
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self._counts = torch.zeros(MAX_SLOTS, dtype=torch.int64).share_memory_()
        self._drawn: tuple[int, set[int]] = (0, set())  # (epoch, indices drawn in it) of this process
        self._warned = False

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Later draws use ``epoch``, in this process and in every worker sharing this object."""
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch must be an integer >= 0, got {epoch!r}")
        self._epoch.fill_(int(epoch))

    def indices(self, features: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """int64 ``(len(features),)`` draw indices: the index column when every feature has it, else
        this process's running count (one mixed batch is an error)."""
        present = [self.index_key in f for f in features]
        if all(present):
            indices = [check_example_index(f[self.index_key], i, self.index_key)
                       for i, f in enumerate(features)]
            self._warn_on_repeat(indices)
            return np.asarray(indices, dtype=np.int64)
        if any(present):
            missing = present.index(False)
            raise ValueError(f"feature {missing} has no {self.index_key!r} while others do: give every "
                             "feature an index or none")
        slot = _slot()
        start = int(self._counts[slot])
        self._counts[slot] = start + len(features)
        indices = (np.arange(start, start + len(features), dtype=np.int64) * MAX_SLOTS) + slot
        if indices[-1] >= MAX_EXAMPLE_INDEX:
            raise ValueError("more than 2**30 examples collated without an index column; add one")
        return indices

    def _warn_on_repeat(self, indices: list[int]) -> None:
        """Warn once when an example index comes back within one epoch: its switches would repeat.
        The set of drawn indices holds one epoch at most, and is dropped once the warning is given."""
        if self._warned:
            return
        epoch = self.epoch
        if self._drawn[0] != epoch:
            self._drawn = (epoch, set())
        drawn = self._drawn[1]
        repeated = next((i for i in indices if i in drawn), None)
        drawn.update(indices)
        if repeated is not None:
            self._warned, self._drawn = True, (epoch, set())
            warnings.warn(
                f"example index {repeated} was collated twice in epoch {epoch}: its code-switching repeats. "
                "Call set_epoch(epoch) at every epoch (with transformers / sentence-transformers trainers: "
                "xcs.integrations.transformers.CodeSwitchEpochCallback), or drop the index column.",
                stacklevel=3)
