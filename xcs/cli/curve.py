"""``xcs curve``: the learning curve of experiments that differ in how long they train."""

from __future__ import annotations

import argparse
from pathlib import Path


def _curve_command(args: argparse.Namespace) -> int:
    from xcs.experiment.report import learning_curve_plots, learning_curve_table
    from xcs.experiment.summary import learning_curve_points
    from xcs.io.atomic import write_text_atomic
    from xcs.io.paths import output_directory

    inputs = [("RESULTS_DIR", path) for path in args.results_dirs]
    out = output_directory(args.out, "--out", command="xcs curve", overwrite=args.overwrite, inputs=inputs)
    points = learning_curve_points(args.results_dirs)  # every input read and checked before writing
    table = learning_curve_table(points)
    write_text_atomic(f"# Learning curve: {', '.join(str(p) for p in args.results_dirs)}\n\n{table}",
                      out / "curve.md")
    plots = learning_curve_plots(points, out)
    print(table)
    print(f"{len(plots)} plots and curve.md in {out}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "curve", help="tabulate and plot metrics against training steps over `xcs experiment` results")
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR",
                        help="an `xcs experiment --results-dir` per number of steps (with its config.toml "
                        "and summary.json)")
    parser.add_argument("--out", required=True, type=Path, help="directory for curve.md and curve_COLUMN.png")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out that xcs curve did not create")
    parser.set_defaults(func=_curve_command)
