"""Type stub of the C++ core (``csrc/bindings.cpp``, built by scikit-build-core as ``xcs._native``)."""

from typing import Any

import numpy as np
import numpy.typing as npt

def abi_version() -> int:
    """Version of this module's interface (arguments, array layouts, draws)."""

class CompiledLexicon:
    """A lexicon in token-ID CSR form, validated and owned by the C++ core."""

    def __init__(
        self,
        key_offsets: npt.NDArray[np.int64],
        key_tokens: npt.NDArray[np.int32],
        key_units: npt.NDArray[np.int32],
        key_entry: npt.NDArray[np.int32],
        entry_offsets: npt.NDArray[np.int64],
        cand_offsets: npt.NDArray[np.int64],
        cand_tokens: npt.NDArray[np.int32],
        vocab_size: int,
        fingerprint: int,
        case_variants: int = 1,
    ) -> None: ...
    @property
    def num_keys(self) -> int: ...
    @property
    def num_entries(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def fingerprint(self) -> int: ...
    @property
    def max_units(self) -> int: ...
    @property
    def case_variants(self) -> int: ...
    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Read-only numpy views of the CSR arrays (they keep this object alive)."""

def switch_batch(
    ids: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    example_index: npt.NDArray[np.int64],
    token_info: npt.NDArray[np.uint8],
    fingerprint: int,
    lexicons: list[CompiledLexicon],
    p: float,
    seed: int,
    epoch: int,
    language_cumulative: npt.NDArray[np.uint64] | list[int],
    max_length: int,
    num_threads: int,
    provenance: bool,
    *,
    stopwords: CompiledLexicon | None = None,
    keep_case: bool = False,
    protect_names: bool = False,
) -> dict[str, npt.NDArray[Any]]:
    """Code-switch a CSR batch of token ids (GIL released); ids int32 and offsets int64 (CSR), and
    with ``provenance`` word_index int32, language int8, switched uint8."""
