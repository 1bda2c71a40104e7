"""``xcs bench evalsuite``: wall time of the whole retrieval suite for an encoder on this machine.

Runs :func:`xcs.evaluation.suite.evaluate` (LAReQA, MoIR/CLIR/MLIR, Tatoeba by default) and prints the
wall time with its breakdown (encoding per kind, retrieval), the number of distinct texts encoded,
the CPU count and the load average, since on a shared machine the load decides the encoding speed.
The target for multilingual-e5-small on a 2-core CPU is <= 15 minutes for the full suite.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from xcs.io.versions import versions

TARGET_FULL_SUITE_S = 15 * 60


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evalsuite", help="wall time of the full retrieval evaluation suite")
    parser.add_argument("--model", default="default", help="HF encoder path or 'default'")
    parser.add_argument("--tasks", default="lareqa,xquadr,tatoeba")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--subsample", type=int, default=None, help="quick run (see `xcs eval --subsample`)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default=None, help="keep the run's outputs here (default: a temp dir); "
                        "new, empty or an earlier evalsuite run's")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out that xcs bench evalsuite did not create")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xcs.evaluation.report import headline_metrics
    from xcs.evaluation.suite import evaluate
    from xcs.models.encoder import Encoder

    if args.out is not None:  # the rule of every command: never a foreign non-empty directory
        from xcs.cli.evaluate import EVAL_RUN_FILES
        from xcs.io.paths import output_directory

        output_directory(args.out, "--out", command="xcs bench evalsuite", overwrite=args.overwrite,
                         inputs=[("--model", args.model), ("--data-dir", args.data_dir)],
                         legacy=EVAL_RUN_FILES)
    load_before = list(os.getloadavg())
    began = time.perf_counter()
    encoder = Encoder(args.model, batch_size=args.batch_size)
    load_s = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        metrics = evaluate(encoder, args.tasks, args.data_dir, out, subsample=args.subsample)
        with open(os.path.join(out, "run_info.json"), encoding="utf-8") as f:
            info = json.load(f)
    total = time.perf_counter() - began
    print(json.dumps({
        "benchmark": "evalsuite",
        "model": info["model"],
        "tasks": info["tasks"],
        "subsample": args.subsample,
        "wall_s": round(total, 1),
        "model_load_s": round(load_s, 1),
        "timings": info["timings"],
        "target_full_suite_s": TARGET_FULL_SUITE_S,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": list(os.getloadavg()),
        "headline": headline_metrics(metrics),
        "environment": versions(),
    }, indent=1))
    return 0
