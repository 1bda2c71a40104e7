"""The numbers behind results/claims.md: each of the paper's claims measured on the committed runs.

    .venv/bin/python results/claims.py            # prints the evidence, claim by claim (Markdown)

Reads only committed files (``results/*/runs/METHOD/seedS/metrics.json``); every test whose unit is
the training run is :func:`xcs.evaluation.significance.seed_level_test` (paired over seeds, or
one-sample against the untouched model, which has no seed). Values x100.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from xcs.evaluation.report import headline_metrics
from xcs.evaluation.significance import seed_level_test

RESULTS = Path(__file__).resolve().parent
HEADLINE = RESULTS / "curve" / "steps040"  # full test data, 40 steps, paper-style MLIR
SUBSAMPLED = RESULTS / "paper-cpu"  # 100 questions per language, pooled MLIR (BL-CS, translate-test)
# languages the ML-CS recipe switches into (configs/curve/steps040.toml)
SWITCHED = {"ar", "de", "el", "es", "hi", "ru", "th", "tr", "vi", "zh"}
# the typology split the pair analyses use, fixed before looking at gains: English and the two
# Latin-script European languages vs every other XQuAD-R language (other scripts, other families)
CLOSE = {"en", "de", "es"}


def runs(config: Path, method: str) -> dict[int, dict]:
    """``{seed: metrics}`` of a method's finished runs."""
    out = {}
    for path in sorted((config / "runs" / method).glob("seed*/metrics.json")):
        out[int(path.parent.name.removeprefix("seed"))] = json.loads(path.read_text())
    return out


def column(metrics: dict[int, dict], name: str) -> dict[int, float]:
    return {seed: headline_metrics(m)[name] for seed, m in metrics.items()}


def pair_scores(metrics: dict[int, dict]) -> dict[str, float]:
    """CLIR MRR@10 of each of the 110 ordered pairs, averaged over seeds."""
    pairs = next(iter(metrics.values()))["clir"]["by_pair"]
    return {p: float(np.mean([m["clir"]["by_pair"][p]["mrr@10"] if isinstance(m["clir"]["by_pair"][p], dict)
                              else m["clir"]["by_pair"][p] for m in metrics.values()])) for p in pairs}


def compare(a: dict[int, float], b: dict[int, float] | float) -> str:
    """``a - b`` (mean over shared seeds), x100, with the seed-level p (n seeds)."""
    seeds = sorted(set(a) & set(b)) if isinstance(b, dict) else sorted(a)
    if not seeds:
        return "no shared seed"
    xa = np.array([a[s] for s in seeds])
    xb = np.array([b[s] for s in seeds]) if isinstance(b, dict) else float(b)
    diff = 100 * float(np.mean(xa - xb))
    if len(seeds) < 2:
        return f"{diff:+.2f} (1 seed: no test)"
    test = seed_level_test(xa, xb)
    return f"{diff:+.2f} (seed-level p = {test.p_value:.3g}, n = {len(seeds)})"


def group_mean(scores: dict[str, float], keep) -> float:
    values = [v for p, v in scores.items() if keep(*p.split("-"))]
    return 100 * float(np.mean(values))


def main() -> int:
    en, ml = runs(HEADLINE, "en"), runs(HEADLINE, "ml-cs")
    en_w, ml_w = runs(HEADLINE, "en-wise"), runs(HEADLINE, "ml-cs-wise")
    untouched = runs(HEADLINE, "off-the-shelf")[0]
    print(f"# Evidence ({HEADLINE.relative_to(RESULTS.parent)}: seeds en {sorted(en)}, ml-cs {sorted(ml)}, "
          f"en-wise {sorted(en_w)}, ml-cs-wise {sorted(ml_w)})\n")

    print("## (1) code-switching improves CLIR and MLIR; (2) it does not hurt monolingual retrieval\n")
    print("| metric | ML-CS - English-only (raw) | ML-CS - English-only (WiSE-FT 0.2) "
          "| ML-CS raw - untouched |")
    print("|---|---|---|---|")
    for name in ("CLIR", "MLIR", "LAReQA", "MoIR", "Tatoeba"):
        base = headline_metrics(untouched)[name]
        print(f"| {name} | {compare(column(ml, name), column(en, name))} | "
              f"{compare(column(ml_w, name), column(en_w, name))} | {compare(column(ml, name), base)} |")

    print("\n## (5) consistently: the share of the 110 CLIR pairs and of the seeds where ML-CS is ahead\n")
    for label, a, b in (("raw", ml, en), ("WiSE-FT", ml_w, en_w)):
        gains = {p: pair_scores(a)[p] - pair_scores(b)[p] for p in pair_scores(a)}
        ahead = sum(g > 0 for g in gains.values())
        seeds = sorted(set(a) & set(b))
        per_seed = [headline_metrics(a[s])["CLIR"] > headline_metrics(b[s])["CLIR"] for s in seeds]
        mlir_seed = [headline_metrics(a[s])["MLIR"] > headline_metrics(b[s])["MLIR"] for s in seeds]
        print(f"- {label}: ML-CS ahead on {ahead}/110 pairs (mean over seeds); CLIR ahead on "
              f"{sum(per_seed)}/{len(seeds)} seeds, MLIR on {sum(mlir_seed)}/{len(seeds)}")

    print("\n## (3) transfer loses more for distant pairs; (8) the gains are largest for them\n")
    zero, cs, off = pair_scores(en), pair_scores(ml), pair_scores({0: untouched})
    groups = {"within {en, de, es}": lambda s, t: s in CLOSE and t in CLOSE,
              "one close, one distant": lambda s, t: (s in CLOSE) != (t in CLOSE),
              "both distant": lambda s, t: s not in CLOSE and t not in CLOSE}
    print("| pairs | untouched | English-only | ML-CS | gain ML-CS - English-only |")
    print("|---|---:|---:|---:|---:|")
    for label, keep in groups.items():
        gain = {p: cs[p] - zero[p] for p in cs}
        print(f"| {label} ({sum(keep(*p.split('-')) for p in cs)}) | {group_mean(off, keep):.2f} | "
              f"{group_mean(zero, keep):.2f} | {group_mean(cs, keep):.2f} | {group_mean(gain, keep):+.2f} |")
    pairs = sorted(cs)
    rho = spearmanr([zero[p] for p in pairs], [cs[p] - zero[p] for p in pairs])
    print(f"\nSpearman between the English-only pair score and the ML-CS gain over the 110 pairs: "
          f"{rho.statistic:+.2f} (p = {rho.pvalue:.2g}; pairs are not independent)")
    for pair in ("ar-ru", "ru-ar", "ar-de", "zh-ar", "en-de"):
        print(f"- {pair}: untouched {100 * off[pair]:.1f}, English-only {100 * zero[pair]:.1f}, "
              f"ML-CS {100 * cs[pair]:.1f}")

    print("\n## (7) seen vs unseen switching languages (Tatoeba, acc@1 mean of both directions)\n")
    def tatoeba(metrics, lang):
        return float(np.mean([m["tatoeba"]["by_language"][lang]["mean"] for m in metrics.values()]))
    langs = sorted(next(iter(ml.values()))["tatoeba"]["by_language"])
    seen = [lang for lang in langs if lang in SWITCHED]  # Tatoeba's results are keyed by ISO 639-1
    unseen = [lang for lang in langs if lang not in seen]
    for label, group in (("in the switching set", seen), ("outside it", unseen)):
        gain = [tatoeba(ml, lang) - tatoeba(en, lang) for lang in group]
        print(f"- {label} ({len(group)} languages): ML-CS - English-only {100 * np.mean(gain):+.2f} "
              f"(languages ahead: {sum(g > 0 for g in gain)}/{len(group)})")

    print(f"\n## (4) ML-CS vs one BL-CS model per pair; (6) translate-test ({SUBSAMPLED.name}: subsampled, "
          "pooled MLIR)\n")
    ml_sub = runs(SUBSAMPLED, "ml-cs@p=0.5")
    for lang in ("de", "ar", "ru"):
        bl = runs(SUBSAMPLED, f"bl-cs-{lang}")
        pair = f"en-{lang}"
        print(f"- {pair}: ML-CS - BL-CS-{lang} {compare(column(ml_sub, pair), column(bl, pair))}")
    tt, zero_sub = runs(SUBSAMPLED, "translate-test"), runs(SUBSAMPLED, "zero-shot")
    for name in ("CLIR", "MoIR", "LAReQA"):
        print(f"- {name}: translate-test - ML-CS {compare(column(tt, name), column(ml_sub, name))}; "
              f"translate-test - zero-shot {compare(column(tt, name), column(zero_sub, name))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
