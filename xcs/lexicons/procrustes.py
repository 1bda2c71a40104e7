"""Align two monolingual embedding spaces with an orthogonal map learned from a seed dictionary.

Orthogonal Procrustes: ``W = argmin_{W orthogonal} ||X W - Y||_F = U V^T`` where
``U S V^T = svd(X^T Y)`` and the rows of ``X``/``Y`` are the seed pairs' source/target vectors.
Refinement (MUSE, Conneau et al. 2018) re-induces a dictionary from the mutual nearest neighbours
(CSLS) among the most frequent words of the mapped spaces and solves Procrustes again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xcs.lexicons.csls import mutual_nearest_pairs
from xcs.lexicons.lexicon import Lexicon
from xcs.lexicons.vectors import WordVectors, normalize_rows


def procrustes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The orthogonal ``W`` float32 ``(d, d)`` minimising ``||x @ W - y||`` for paired rows
    ``x, y`` float ``(n, d)``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x and y must be paired (n, d) matrices, got {x.shape} and {y.shape}")
    if x.shape[0] == 0:
        raise ValueError("Procrustes needs at least one pair")
    u, _, vt = np.linalg.svd(x.T @ y)
    return (u @ vt).astype(np.float32)


@dataclass
class Alignment:
    """``W`` float32 ``(d, d)`` maps source vectors into the target space (``src @ W``).

    ``seed_pairs`` is how many seed-dictionary pairs had vectors on both sides;
    ``refined_pairs[i]`` the size of the dictionary induced in refinement round ``i``.
    """

    W: np.ndarray
    seed_pairs: int
    refined_pairs: list[int] = field(default_factory=list)

    def map(self, vectors: WordVectors) -> WordVectors:
        """The source ``vectors`` mapped into the target space."""
        return WordVectors(list(vectors.words), vectors.vectors @ self.W)


def seed_pairs(src: WordVectors, tgt: WordVectors, seed: Lexicon) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(src_rows, tgt_rows)`` int64 ``(p,)`` of the seed pairs present in both spaces."""
    src_rows, tgt_rows = [], []
    for s, t in seed.pairs():
        i, j = src.index.get(s), tgt.index.get(t)
        if i is not None and j is not None:
            src_rows.append(i)
            tgt_rows.append(j)
    return np.asarray(src_rows, dtype=np.int64), np.asarray(tgt_rows, dtype=np.int64)


def align(
    src: WordVectors,
    tgt: WordVectors,
    seed: Lexicon,
    *,
    refine_iterations: int = 0,
    refine_vocab: int = 15000,
    csls_k: int = 10,
    progress: bool = False,
) -> Alignment:
    """Learn the map from ``seed`` and optionally refine it ``refine_iterations`` times.

    Vectors are L2-normalised first. Each refinement round induces a dictionary from the mutual
    CSLS nearest neighbours among the first ``refine_vocab`` words of each space (the most frequent
    in fastText/MUSE files) and re-solves Procrustes on it.
    """
    if refine_iterations < 0:
        raise ValueError(f"refine_iterations must be >= 0, got {refine_iterations}")
    xs, ys = normalize_rows(src.vectors), normalize_rows(tgt.vectors)
    src_rows, tgt_rows = seed_pairs(src, tgt, seed)
    if len(src_rows) == 0:
        raise ValueError(
            f"no seed pair of the {seed.src_lang}-{seed.tgt_lang} dictionary has vectors on both sides"
        )
    alignment = Alignment(procrustes(xs[src_rows], ys[tgt_rows]), seed_pairs=len(src_rows))
    for _ in range(refine_iterations):
        mapped = xs[:refine_vocab] @ alignment.W
        pairs, _ = mutual_nearest_pairs(mapped, ys[:refine_vocab], method="csls", csls_k=csls_k,
                                        progress=progress)
        if len(pairs) == 0:
            break
        alignment.W = procrustes(xs[pairs[:, 0]], ys[pairs[:, 1]])
        alignment.refined_pairs.append(len(pairs))
    return alignment
