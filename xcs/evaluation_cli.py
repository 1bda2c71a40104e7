"""``xcs eval`` (run the retrieval suite on an encoder) and ``xcs compare`` (paired tests of two runs)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    ev = subparsers.add_parser(
        "eval",
        help="evaluate an encoder on LAReQA, XQuAD-R (MoIR/CLIR/MLIR), Tatoeba",
    )
    ev.add_argument(
        "--model", default="default", help="HF encoder path or 'default' (4-bit-derived mE5-small)")
    ev.add_argument("--tasks", default="lareqa,xquadr,tatoeba",
                    help="comma list of lareqa, moir, clir, mlir, tatoeba; 'xquadr' = moir,clir,mlir")
    ev.add_argument(
        "--data-dir", default=None, help="data directory (default: $XCS_DATA_DIR or ../shared/data)")
    ev.add_argument(
        "--xquadr-dir", default=None, help="directory of XQuAD-R-format {lang}.json (MLQA-R etc.)")
    ev.add_argument("--tatoeba-dir", default=None, help="LASER v1 Tatoeba files (default DATA/tatoeba)")
    ev.add_argument(
        "--languages", default=None, help="comma list of XQuAD-R languages (default: all files)")
    ev.add_argument(
        "--tatoeba-languages", default=None, help="comma list (default: the 41 XTREME-R languages)")
    ev.add_argument("--out", required=True, help="output directory")
    ev.add_argument("--subsample", type=int, default=None,
                    help="quick run: N questions per language (their paragraphs as candidates), "
                    "N Tatoeba pairs")
    ev.add_argument("--seed", type=int, default=0, help="subsampling seed")
    ev.add_argument("--batch-size", type=int, default=64, help="encoding batch size")
    ev.set_defaults(func=run_eval)

    cmp = subparsers.add_parser("compare", help="paired significance tests between two `xcs eval` runs")
    cmp.add_argument("run_a", help="output directory of run A")
    cmp.add_argument("run_b", help="output directory of run B (the baseline)")
    cmp.add_argument("--permutations", type=int, default=10_000, help="randomisation test permutations")
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level after Bonferroni")
    cmp.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    cmp.set_defaults(func=run_compare)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def run_eval(args: argparse.Namespace) -> int:
    from xcs.encoder import Encoder
    from xcs.evaluation import evaluate

    encoder = Encoder(args.model, batch_size=args.batch_size)
    metrics = evaluate(
        encoder,
        tasks=args.tasks,
        data_dir=args.data_dir,
        out_dir=args.out,
        xquadr_dir=args.xquadr_dir,
        tatoeba_dir=args.tatoeba_dir,
        languages=_split(args.languages),
        tatoeba_languages=_split(args.tatoeba_languages),
        subsample=args.subsample,
        seed=args.seed,
        command=shlex.join(["xcs", *sys.argv[1:]]),
    )
    print(Path(args.out, "report.md").read_text(encoding="utf-8"))
    print(json.dumps({t: {k: v for k, v in m.items() if not isinstance(v, dict | list)}
                      for t, m in metrics.items()}, indent=1))
    return 0


def compare_runs(run_a: str | Path, run_b: str | Path, *, permutations: int = 10_000) -> list[dict]:
    """Paired t-test (Bonferroni over all columns compared) and randomisation test per headline
    column shared by two runs; raises when the runs' per-query scores do not line up."""
    from xcs.evaluation import load_per_query
    from xcs.significance import bonferroni, paired_randomization_test, paired_t_test

    a, b = load_per_query(run_a), load_per_query(run_b)
    columns = [c for c in a if c in b]
    if not columns:
        raise ValueError(f"{run_a} and {run_b} share no evaluated column")
    for column in columns:
        if a[column].shape != b[column].shape:
            raise ValueError(f"column {column}: {len(a[column])} queries in {run_a} but {len(b[column])} in "
                             f"{run_b}; compare runs made on the same data and --subsample/--seed")
    rows = []
    for column in columns:
        t = paired_t_test(a[column], b[column])
        r = paired_randomization_test(a[column], b[column], n_permutations=permutations)
        rows.append({"column": column, "n": t.n, "mean_a": t.mean_a, "mean_b": t.mean_b, "delta": t.delta,
                     "t": t.statistic, "p_t": t.p_value, "p_randomization": r.p_value})
    for row, corrected in zip(rows, bonferroni([row["p_t"] for row in rows]), strict=True):
        row["p_t_bonferroni"] = float(corrected)
    return rows


def run_compare(args: argparse.Namespace) -> int:
    rows = compare_runs(args.run_a, args.run_b, permutations=args.permutations)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"A = {args.run_a}\nB = {args.run_b}\n(paired t-test with Bonferroni x{len(rows)}; "
          f"randomisation test with {args.permutations} sign flips; * = significant at {args.alpha})\n")
    print("| column | n | A | B | A-B | p (t) | p (t, Bonf.) | p (rand.) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mark = "*" if r["p_t_bonferroni"] < args.alpha else ""
        print(f"| {r['column']} | {r['n']} | {100 * r['mean_a']:.2f} | {100 * r['mean_b']:.2f} | "
              f"{100 * r['delta']:+.2f}{mark} | {r['p_t']:.3g} | {r['p_t_bonferroni']:.3g} | "
              f"{r['p_randomization']:.3g} |")
    return 0
