"""``xcs bench NAME``: run one benchmark and print its JSON summary.

Each benchmark module exposes ``add_parser(subparsers)`` like the top-level commands.
"""

from __future__ import annotations

import argparse
import importlib

BENCH_MODULES: list[str] = [
    "xcs.bench.codeswitch",
    "xcs.bench.encode",
    "xcs.bench.lexicon",
    "xcs.bench.loss",
    "xcs.bench.metrics",
    "xcs.bench.evalsuite",
]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="run a microbenchmark and print a JSON summary")
    bench_sub = parser.add_subparsers(dest="bench", metavar="BENCH")
    for module_path in BENCH_MODULES:
        importlib.import_module(module_path).add_parser(bench_sub)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
