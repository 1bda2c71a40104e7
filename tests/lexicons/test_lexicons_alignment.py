"""Procrustes alignment and nearest-neighbour / CSLS retrieval on synthetic spaces."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.lexicons.csls import induce_lexicon, mutual_nearest_pairs, nearest_neighbors
from xcs.lexicons.lexicon import Lexicon
from xcs.lexicons.procrustes import align, procrustes
from xcs.lexicons.vectors import WordVectors


def _random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def test_procrustes_recovers_orthogonal_map_from_noisy_pairs():
    rng = np.random.default_rng(0)
    d = 40
    w_true = _random_orthogonal(d, rng)
    x = rng.normal(size=(2000, d))
    np.testing.assert_allclose(procrustes(x, x @ w_true), w_true, atol=1e-5)  # noiseless: exact
    noisy = x @ w_true + 0.05 * rng.normal(size=x.shape)
    w = procrustes(x, noisy)
    np.testing.assert_allclose(w @ w.T, np.eye(d), atol=1e-5)  # always orthogonal
    np.testing.assert_allclose(w, w_true, atol=5e-3)


def test_procrustes_rejects_unpaired_input():
    with pytest.raises(ValueError, match="paired"):
        procrustes(np.zeros((3, 4)), np.zeros((2, 4)))


def _rotated_spaces(n: int = 600, d: int = 24, noise: float = 0.1, seed: int = 1):
    rng = np.random.default_rng(seed)
    w_true = _random_orthogonal(d, rng)
    x = rng.normal(size=(n, d))
    y = x @ w_true + noise * rng.normal(size=(n, d))
    perm = rng.permutation(n)  # the target file lists words in another order
    src = WordVectors([f"s{i}" for i in range(n)], x.astype(np.float32))
    tgt = WordVectors([f"t{i}" for i in perm], y[perm].astype(np.float32))
    return src, tgt, w_true


def test_align_from_a_small_seed_then_refine_translates_the_vocabulary():
    src, tgt, w_true = _rotated_spaces()
    seed = Lexicon.from_pairs([(f"s{i}", f"t{i}") for i in range(0, 600, 20)] + [("s1", "missing")],
                              "xx", "yy")
    alignment = align(src, tgt, seed, refine_iterations=2, refine_vocab=600)
    assert alignment.seed_pairs == 30
    assert len(alignment.refined_pairs) == 2 and alignment.refined_pairs[-1] > 500
    np.testing.assert_allclose(alignment.W, w_true, atol=0.02)
    mapped = alignment.map(src)
    lex = induce_lexicon(mapped.words, mapped.vectors, tgt.words, tgt.vectors, "xx", "yy", method="csls")
    correct = sum(lex[f"s{i}"] == [f"t{i}"] for i in range(600))
    assert correct >= 590


def test_align_without_usable_seed_pairs_fails_clearly():
    src, tgt, _ = _rotated_spaces(n=20)
    with pytest.raises(ValueError, match="no seed pair"):
        align(src, tgt, Lexicon.from_pairs([("nope", "nada")], "xx", "yy"))


def _space_with_hubs(n: int = 500, d: int = 64, hubs: int = 5, seed: int = 0):
    """Sources share a common direction; a few hub targets lie on it and are close to every source,
    while each true translation is its source plus noise."""
    rng = np.random.default_rng(seed)
    common = np.zeros(d)
    common[0] = 1.0
    z = rng.normal(size=(n, d)) / np.sqrt(d)
    z[:, 0] = 0.0
    src = common + z
    tgt = common + z + 1.5 * rng.normal(size=(n, d)) / np.sqrt(d)
    hub_rows = common + 0.05 * rng.normal(size=(hubs, d)) / np.sqrt(d)
    return src, np.concatenate([tgt, hub_rows])


def test_csls_beats_plain_nearest_neighbour_with_hubs():
    src, tgt = _space_with_hubs()
    truth = np.arange(len(src))
    nn = nearest_neighbors(src, tgt, method="nn").indices[:, 0]
    csls = nearest_neighbors(src, tgt, method="csls").indices[:, 0]
    nn_acc, csls_acc = (nn == truth).mean(), (csls == truth).mean()
    assert (nn >= len(src)).mean() > 0.5  # plain NN mostly answers with a hub
    assert csls_acc > nn_acc + 0.3, (nn_acc, csls_acc)


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_blocked_scan_matches_dense_computation(method):
    rng = np.random.default_rng(3)
    src, tgt = rng.normal(size=(37, 8)), rng.normal(size=(53, 8))
    tiny = nearest_neighbors(src, tgt, k=4, method=method, csls_k=5, max_block_bytes=1)  # 1 row/block
    big = nearest_neighbors(src, tgt, k=4, method=method, csls_k=5)
    np.testing.assert_array_equal(tiny.indices, big.indices)
    np.testing.assert_allclose(tiny.scores, big.scores, atol=1e-6)
    s = src / np.linalg.norm(src, axis=1, keepdims=True)
    t = tgt / np.linalg.norm(tgt, axis=1, keepdims=True)
    cos = s @ t.T
    if method == "csls":
        r_t = np.sort(cos, axis=1)[:, -5:].mean(axis=1)
        r_s = np.sort(cos, axis=0)[-5:, :].mean(axis=0)
        cos = 2 * cos - r_t[:, None] - r_s[None, :]
    expected = np.argsort(-cos, axis=1)[:, :4]
    np.testing.assert_array_equal(big.indices, expected)
    np.testing.assert_allclose(big.scores, np.take_along_axis(cos, expected, axis=1), atol=1e-5)


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_mutual_pairs_are_mutual(method):
    rng = np.random.default_rng(4)
    src, tgt = rng.normal(size=(60, 6)), rng.normal(size=(80, 6))
    pairs, scores = mutual_nearest_pairs(src, tgt, method=method, max_block_bytes=64)
    fwd = nearest_neighbors(src, tgt, method=method).indices[:, 0]
    bwd_src = nearest_neighbors(tgt, src, method="nn").indices[:, 0] if method == "nn" else None
    assert len(pairs) == len(scores) > 0
    for i, j in pairs:
        assert fwd[i] == j
        if bwd_src is not None:
            assert bwd_src[j] == i
    lex = induce_lexicon([f"s{i}" for i in range(60)], src, [f"t{j}" for j in range(80)], tgt, "a", "b",
                         method=method, mutual=True)
    assert len(lex) == len(pairs)


def test_bad_arguments_are_reported():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="method"):
        nearest_neighbors(x, x, method="cosine")
    with pytest.raises(ValueError, match=r"\(n, d\) and \(m, d\)"):
        nearest_neighbors(x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="one vector per word"):
        induce_lexicon(["a"], x, ["b"], x, "a", "b")
