"""``xcs bench lexicon``: loading a MUSE dictionary, and CSLS induction at vocabulary scale.

Each measurement runs in a fresh child process so its peak resident memory (``ru_maxrss``) is its
own. Reported in one run:

- ``muse_load``: ``Lexicon.load`` of the ~100k-line MUSE en-de file (validating, de-duplicating),
  next to a bare ``split``-into-dict loop over the same file (the floor any loader pays).
- ``csls``: ``nearest_neighbors(method="csls")`` for ``n x n`` words (default 50k x 50k, d=384,
  random unit vectors, blocks of ``--block-mb``), and at ``--dense-n`` words both the blocked scan
  and a dense baseline that materialises the whole similarity matrix, for time / memory ratios.
"""

from __future__ import annotations

import argparse
import json
import time

from xcs.bench.isolated import peak_rss_mb, run_isolated
from xcs.io.versions import versions


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lexicon", help="MUSE loading and n x n CSLS induction: time, peak memory")
    parser.add_argument("--data-dir", default=None, help="directory holding muse/ (default: xcs data dir)")
    parser.add_argument("--pair", default="en-de", help="MUSE dictionary to load (default en-de)")
    parser.add_argument("--n", type=int, default=50000, help="words per side for the CSLS run")
    parser.add_argument("--dim", type=int, default=384, help="vector size")
    parser.add_argument("--dense-n", type=int, default=10000, help="size of the dense-baseline comparison")
    parser.add_argument("--block-mb", type=int, default=256, help="similarity block budget in MiB")
    parser.add_argument("--skip-large", action="store_true", help="skip the n x n run")
    parser.set_defaults(func=run)


def _muse_xcs(path: str) -> dict:
    from xcs.lexicons.lexicon import Lexicon

    before = peak_rss_mb()
    started = time.perf_counter()
    lex = Lexicon.load(path, "src", "tgt")
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "entries": len(lex),
            "pairs": sum(len(t) for t in lex.entries.values()),
            "peak_rss_growth_mb": round(peak_rss_mb() - before, 1)}


def _muse_bare(path: str) -> dict:
    before = peak_rss_mb()
    started = time.perf_counter()
    entries: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            src, tgt = line.rstrip("\n").split("\t")
            entries.setdefault(src, []).append(tgt)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "entries": len(entries),
            "peak_rss_growth_mb": round(peak_rss_mb() - before, 1)}


def _vectors(n: int, dim: int, seed: int):
    import torch

    gen = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, dim, generator=gen), dim=1)


def _csls_blocked(n: int, dim: int, block_mb: int) -> dict:
    import torch

    from xcs.lexicons.csls import nearest_neighbors

    src, tgt = _vectors(n, dim, 0), _vectors(n, dim, 1)
    before = peak_rss_mb()
    started = time.perf_counter()
    nbrs = nearest_neighbors(src, tgt, k=1, method="csls", max_block_bytes=block_mb * 2**20)
    seconds = time.perf_counter() - started
    return {"n": n, "dim": dim, "seconds": round(seconds, 2), "words_per_s": round(n / seconds, 1),
            "peak_rss_growth_mb": round(peak_rss_mb() - before, 1),
            "inputs_mb": round(2 * n * dim * 4 / 2**20, 1), "torch_threads": torch.get_num_threads(),
            "checksum": int(nbrs.indices[:, 0].sum())}


def _csls_dense(n: int, dim: int) -> dict:
    """The textbook implementation: the full (n, n) similarity matrix in memory."""
    src, tgt = _vectors(n, dim, 0), _vectors(n, dim, 1)
    before = peak_rss_mb()
    started = time.perf_counter()
    sims = src @ tgt.T
    r_tgt = sims.topk(10, dim=1).values.mean(dim=1)
    r_src = sims.topk(10, dim=0).values.mean(dim=0)
    best = (2 * sims - r_tgt[:, None] - r_src[None, :]).argmax(dim=1)
    seconds = time.perf_counter() - started
    return {"n": n, "dim": dim, "seconds": round(seconds, 2),
            "peak_rss_growth_mb": round(peak_rss_mb() - before, 1), "checksum": int(best.sum())}



def run(args: argparse.Namespace) -> int:
    from xcs.io.paths import data_dir

    muse = data_dir(args.data_dir) / "muse" / f"{args.pair}.txt"
    if not muse.is_file():
        raise FileNotFoundError(f"{muse} does not exist")
    with open(muse, "rb") as fh:
        lines = sum(1 for _ in fh)
    result: dict = {"muse_file": str(muse), "muse_lines": lines}
    ours, bare = run_isolated(_muse_xcs, str(muse)), run_isolated(_muse_bare, str(muse))
    result["muse_load"] = {"xcs": ours, "bare_split_loop": bare,
                           "time_ratio_vs_bare": round(ours["seconds"] / bare["seconds"], 2)}
    blocked = run_isolated(_csls_blocked, args.dense_n, args.dim, args.block_mb)
    dense = run_isolated(_csls_dense, args.dense_n, args.dim)
    result["csls_small"] = {
        "blocked": blocked, "dense_baseline": dense,
        "same_result": blocked["checksum"] == dense["checksum"],
        "time_ratio_blocked_vs_dense": round(blocked["seconds"] / dense["seconds"], 2),
        "memory_ratio_blocked_vs_dense": round(
            blocked["peak_rss_growth_mb"] / max(dense["peak_rss_growth_mb"], 1e-9), 3),
    }
    if not args.skip_large:
        large = run_isolated(_csls_blocked, args.n, args.dim, args.block_mb)
        large["dense_matrix_would_need_mb"] = round(args.n * args.n * 4 / 2**20, 1)
        result["csls_large"] = large
    result["environment"] = versions()
    print(json.dumps(result, indent=2))
    return 0
