"""Nearest-neighbour and CSLS retrieval between two embedding spaces, chunked and batched in torch.

Plain nearest neighbour ranks targets ``y`` for a source ``x`` by ``cos(x, y)`` (the paper's
argmax of the dot product of normalised vectors). CSLS (Conneau et al., 2018, MUSE) corrects for
hubs — targets that are near everything — with

    CSLS(x, y) = 2 cos(x, y) - r_T(x) - r_S(y),

where ``r_T(x)`` is the mean cosine of ``x`` to its ``csls_k`` nearest targets and ``r_S(y)`` the
mean cosine of ``y`` to its ``csls_k`` nearest sources. Every pass computes the similarity of a
block of query rows against all keys, so peak memory is ``rows_per_block * n_keys * 4`` bytes
(bounded by ``max_block_bytes``) whatever the vocabulary sizes, e.g. 200k x 200k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from xcs.lexicons.lexicon import Lexicon

METHODS = ("nn", "csls")
DEFAULT_BLOCK_BYTES = 256 * 2**20


@dataclass
class Neighbors:
    """Top-``k`` neighbours of each query: ``indices`` int64 ``(n, k)``, ``scores`` float32 ``(n, k)``,
    best first. Scores are cosines for ``"nn"`` and CSLS values for ``"csls"``."""

    indices: np.ndarray
    scores: np.ndarray


def nearest_neighbors(
    src: np.ndarray | torch.Tensor,
    tgt: np.ndarray | torch.Tensor,
    *,
    k: int = 1,
    method: str = "csls",
    csls_k: int = 10,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    progress: bool = False,
) -> Neighbors:
    """The ``k`` best targets for every source row.

    ``src`` is ``(n, d)`` and ``tgt`` ``(m, d)``, any float dtype; rows are L2-normalised here, so
    the dot product is the cosine. ``method`` is ``"nn"`` or ``"csls"``.
    """
    src_t, tgt_t = _prepare(src, tgt, method, k)
    k = min(k, tgt_t.shape[0])
    if method == "nn":
        _, idx, score = _scan(src_t, tgt_t, k=k, csls_k=0, key_penalty=None,
                              max_block_bytes=max_block_bytes, progress=progress, desc="nn")
        return Neighbors(idx.numpy(), score.numpy())
    r_src = _neighborhood(tgt_t, src_t, csls_k, max_block_bytes, progress, "csls r_S")
    r_tgt, idx, score = _scan(src_t, tgt_t, k=k, csls_k=csls_k, key_penalty=r_src,
                              max_block_bytes=max_block_bytes, progress=progress, desc="csls")
    score = score - r_tgt[:, None]
    return Neighbors(idx.numpy(), score.numpy())


def mutual_nearest_pairs(
    src: np.ndarray | torch.Tensor,
    tgt: np.ndarray | torch.Tensor,
    *,
    method: str = "csls",
    csls_k: int = 10,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` where target ``j`` is the best for source ``i`` and source ``i`` the best
    for target ``j`` under the same criterion. Returns ``(pairs int64 (p, 2), scores float32 (p,))``
    with ``scores`` the forward score of each pair, sorted by source index."""
    src_t, tgt_t = _prepare(src, tgt, method, 1)
    if method == "nn":
        _, fwd, fwd_score = _scan(src_t, tgt_t, k=1, csls_k=0, key_penalty=None,
                                  max_block_bytes=max_block_bytes, progress=progress, desc="nn fwd")
        _, bwd, _ = _scan(tgt_t, src_t, k=1, csls_k=0, key_penalty=None,
                          max_block_bytes=max_block_bytes, progress=progress, desc="nn bwd")
    else:
        r_src = _neighborhood(tgt_t, src_t, csls_k, max_block_bytes, progress, "csls r_S")
        r_tgt, fwd, fwd_score = _scan(src_t, tgt_t, k=1, csls_k=csls_k, key_penalty=r_src,
                                      max_block_bytes=max_block_bytes, progress=progress, desc="csls fwd")
        fwd_score = fwd_score - r_tgt[:, None]
        _, bwd, _ = _scan(tgt_t, src_t, k=1, csls_k=0, key_penalty=r_tgt,
                          max_block_bytes=max_block_bytes, progress=progress, desc="csls bwd")
    fwd, bwd = fwd[:, 0], bwd[:, 0]
    rows = torch.arange(src_t.shape[0])
    keep = bwd[fwd] == rows
    pairs = torch.stack([rows[keep], fwd[keep]], dim=1)
    return pairs.numpy(), fwd_score[keep, 0].numpy()


def induce_lexicon(
    src_words: Sequence[str],
    src_vectors: np.ndarray | torch.Tensor,
    tgt_words: Sequence[str],
    tgt_vectors: np.ndarray | torch.Tensor,
    src_lang: str,
    tgt_lang: str,
    *,
    k: int = 1,
    method: str = "csls",
    csls_k: int = 10,
    mutual: bool = False,
    max_block_bytes: int = DEFAULT_BLOCK_BYTES,
    progress: bool = False,
) -> Lexicon:
    """A lexicon mapping each source word to its ``k`` best targets (best first).

    With ``mutual=True`` only mutual nearest neighbours are kept (one target per source). The
    vectors must already live in one shared space (aligned, or from one multilingual encoder).
    """
    if len(src_words) != len(src_vectors) or len(tgt_words) != len(tgt_vectors):
        raise ValueError("each word list must have one vector per word")
    lex = Lexicon(src_lang, tgt_lang)
    if mutual:
        pairs, _ = mutual_nearest_pairs(src_vectors, tgt_vectors, method=method, csls_k=csls_k,
                                        max_block_bytes=max_block_bytes, progress=progress)
        for i, j in pairs.tolist():
            lex.add(src_words[i], tgt_words[j])
        return lex
    nbrs = nearest_neighbors(src_vectors, tgt_vectors, k=k, method=method, csls_k=csls_k,
                             max_block_bytes=max_block_bytes, progress=progress)
    for i, row in enumerate(nbrs.indices.tolist()):
        for j in row:
            lex.add(src_words[i], tgt_words[j])
    return lex


# ---------------------------------------------------------------------------------------- internals
def _prepare(src, tgt, method: str, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    src_t = torch.as_tensor(np.asarray(src) if not isinstance(src, torch.Tensor) else src).float()
    tgt_t = torch.as_tensor(np.asarray(tgt) if not isinstance(tgt, torch.Tensor) else tgt).float()
    if src_t.ndim != 2 or tgt_t.ndim != 2 or src_t.shape[1] != tgt_t.shape[1]:
        raise ValueError(f"src and tgt must be (n, d) and (m, d); got {tuple(src_t.shape)} "
                         f"and {tuple(tgt_t.shape)}")
    if src_t.shape[0] == 0 or tgt_t.shape[0] == 0:
        raise ValueError("src and tgt must each have at least one row")
    return (torch.nn.functional.normalize(src_t, dim=1),
            torch.nn.functional.normalize(tgt_t, dim=1))


def _rows_per_block(n_keys: int, max_block_bytes: int) -> int:
    return max(1, max_block_bytes // (4 * n_keys))


def _neighborhood(queries, keys, csls_k, max_block_bytes, progress, desc) -> torch.Tensor:
    """Mean cosine of each query to its ``csls_k`` nearest keys: float32 ``(n_queries,)``."""
    r, _, _ = _scan(queries, keys, k=0, csls_k=csls_k, key_penalty=None,
                    max_block_bytes=max_block_bytes, progress=progress, desc=desc)
    return r


@torch.no_grad()
def _scan(
    queries: torch.Tensor,
    keys: torch.Tensor,
    *,
    k: int,
    csls_k: int,
    key_penalty: torch.Tensor | None,
    max_block_bytes: int,
    progress: bool,
    desc: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One blocked pass over ``queries (n, d)`` x ``keys (m, d)`` (both unit rows).

    Returns ``(mean top-csls_k cosine per query (n,), top-k indices (n, k), top-k scores (n, k))``
    where the score is ``cos`` without ``key_penalty`` and ``2 cos - key_penalty[key]`` with it.
    """
    n, m = queries.shape[0], keys.shape[0]
    csls_k = min(csls_k, m)
    block = _rows_per_block(m, max_block_bytes)
    mean_top = torch.zeros(n)
    top_idx = torch.zeros((n, k), dtype=torch.int64)
    top_score = torch.zeros((n, k))
    starts = range(0, n, block)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc=desc, unit="block", leave=False)
    keys_t = keys.t().contiguous()
    for start in starts:
        sims = queries[start:start + block] @ keys_t  # (b, m) float32: the only large buffer
        if csls_k:
            mean_top[start:start + block] = sims.topk(csls_k, dim=1).values.mean(dim=1)
        if k:
            if key_penalty is not None:
                sims.mul_(2).sub_(key_penalty)
            values, indices = sims.topk(k, dim=1)
            top_idx[start:start + block] = indices
            top_score[start:start + block] = values
    return mean_top, top_idx, top_score
