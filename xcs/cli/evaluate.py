"""``xcs eval``: run the retrieval suite on an encoder."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from xcs.cli.arguments import name_list, non_negative_int, positive_int, rate_list

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
    ev.add_argument(
        "--xquadr-dir", default=None, help="directory of XQuAD-R-format {lang}.json (MLQA-R etc.)")
    ev.add_argument("--tatoeba-dir", default=None, help="LASER v1 Tatoeba files (default DATA/tatoeba)")
    ev.add_argument("--languages", default=None, type=name_list,
                    help="comma list of XQuAD-R languages (default: all files)")
    ev.add_argument("--tatoeba-languages", default=None, type=name_list,
                    help="comma list (default: the 41 XTREME-R languages)")
    ev.add_argument("--out", required=True, help="output directory (new, empty, or an earlier xcs eval's)")
    ev.add_argument("--overwrite", action="store_true",
                    help="write into a non-empty --out that xcs eval did not create")
    ev.add_argument("--subsample", type=positive_int, default=None,
                    help="quick run: N questions per language (their paragraphs as candidates), "
                    "N Tatoeba pairs")
    ev.add_argument("--seed", type=non_negative_int, default=0, help="subsampling seed")
    ev.add_argument("--split", choices=["dev", "test"], default=None,
                    help="XQuAD-R questions of the development split (a fixed 20%% of the paragraphs) or "
                    "of the test split (the rest); every sentence stays a candidate (default: all)")
    ev.add_argument("--cs-query-lexicon", default="xling",
                    help="cs-queries: 'xling' (DATA/xling/en-X.train.freq.5k.tsv) or a path template with "
                    "{lang}")
    ev.add_argument("--cs-query-rates", type=rate_list, default=[0.25, 0.5],
                    help="cs-queries: comma list of switch rates in (0, 1] (default 0.25,0.5)")
    ev.add_argument("--batch-size", type=positive_int, default=64, help="encoding batch size")
    ev.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from xcs.evaluation.suite import check_evaluation, evaluate
    from xcs.io.paths import output_directory
    from xcs.models.encoder import Encoder

    # the options and the data first, as evaluate() checks them: refused before --out or the model
    options = {"xquadr_dir": args.xquadr_dir, "tatoeba_dir": args.tatoeba_dir, "languages": args.languages,
               "tatoeba_languages": args.tatoeba_languages, "subsample": args.subsample, "seed": args.seed,
               "split": args.split, "cs_query_lexicon": args.cs_query_lexicon,
               "cs_query_rates": args.cs_query_rates}
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
