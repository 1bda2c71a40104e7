"""``xcs eval``: run the retrieval suite on an encoder."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from xcs.cli.arguments import positive_int
from xcs.cli.schema import add_schema_flags, given_fields
from xcs.experiment.config import EvalOptions  # torch-free: the flags are generated from it

# EvalOptions fields that are no `xcs eval` flag: the experiment's pairs, the recorded command, and
# the tasks (a flag of its own: a comma list with the 'xquadr' alias)
NOT_FLAGS = ("tasks", "pairs", "command")

# what an `xcs eval` output directory written before the output marker existed holds
EVAL_RUN_FILES = ("metrics.json", "run_info.json")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    ev = subparsers.add_parser(
        "eval",
        help="evaluate an encoder on LAReQA, XQuAD-R (MoIR/CLIR/MLIR), Tatoeba",
    )
    ev.add_argument(
        "--model", default="default", help="HF encoder path or 'default' (4-bit-derived mE5-small)")
    ev.add_argument("--tasks", default="lareqa,xquadr,tatoeba",
                    help="comma list of lareqa, moir, clir, mlir, tatoeba, cs-queries; 'xquadr' = "
                    "moir,clir,mlir")
    ev.add_argument(
        "--data-dir", default=None, help="data directory (default: $XCS_DATA_DIR or ../shared/data)")
    ev.add_argument("--out", required=True, help="output directory (new, empty, or an earlier xcs eval's)")
    ev.add_argument("--overwrite", action="store_true",
                    help="write into a non-empty --out that xcs eval did not create")
    # every evaluate() option, generated from its schema (xcs.cli.schema): unset flags keep its defaults
    add_schema_flags(ev.add_argument_group("evaluation options ([eval], EvalOptions)"), EvalOptions, "[eval]",
                     exclude=NOT_FLAGS)
    ev.add_argument("--batch-size", type=positive_int, default=64, help="encoding batch size")
    ev.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from xcs.evaluation.suite import check_evaluation, evaluate
    from xcs.io.paths import output_directory
    from xcs.models.encoder import Encoder

    # the options and the data first, as evaluate() checks them: refused before --out or the model
    options = given_fields(args, EvalOptions, exclude=NOT_FLAGS)
    check_evaluation(args.tasks, args.data_dir, **options)
    # before the model loads and the evaluation runs: never another command's output or an input
    output_directory(args.out, "--out", command="xcs eval", overwrite=args.overwrite,
                     inputs=[("--model", args.model), ("--data-dir", args.data_dir),
                             ("--xquadr-dir", args.xquadr_dir), ("--tatoeba-dir", args.tatoeba_dir)],
                     legacy=EVAL_RUN_FILES)
    encoder = Encoder(args.model, batch_size=args.batch_size)
    metrics = evaluate(encoder, tasks=args.tasks, data_dir=args.data_dir, out_dir=args.out, **options,
                       command=shlex.join(["xcs", *sys.argv[1:]]))
    print(Path(args.out, "report.md").read_text(encoding="utf-8"))
    print(json.dumps({t: {k: v for k, v in m.items() if not isinstance(v, dict | list)}
                      for t, m in metrics.items()}, indent=1))
    return 0
