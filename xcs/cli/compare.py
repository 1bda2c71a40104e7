"""``xcs compare``: paired significance tests between two ``xcs eval`` runs."""

from __future__ import annotations

import argparse
import json

from xcs.cli.arguments import positive_int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    cmp = subparsers.add_parser("compare", help="paired significance tests between two `xcs eval` runs")
    cmp.add_argument("run_a", help="output directory of run A")
    cmp.add_argument("run_b", help="output directory of run B (the baseline)")
    cmp.add_argument("--permutations", type=positive_int, default=10_000,
                     help="randomisation test permutations")
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level after Bonferroni")
    cmp.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    cmp.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from xcs.evaluation.compare import compare_runs

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
