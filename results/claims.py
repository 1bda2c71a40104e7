"""The numbers behind results/claims.md: each of the paper's claims measured on the committed runs.

    .venv/bin/python results/claims.py > results/claims-evidence.md   # the evidence, claim by claim

``results/claims.md`` gives the verdicts and quotes ``results/claims-evidence.md``, which a test holds
equal to what this script prints from the committed runs.

Reads only committed files (``results/*/runs/METHOD/seedS/metrics.json``); every test whose unit is
the training run is :func:`xcs.evaluation.significance.seed_level_test` (paired over seeds, or
one-sample against the untouched model, which has no seed). Values x100.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr, ttest_ind

from xcs.data.tatoeba import TATOEBA_XTREME_R_LANGUAGES
from xcs.evaluation.report import headline_metrics
from xcs.evaluation.significance import seed_level_test
from xcs.experiment.config import load_config

RESULTS = Path(__file__).resolve().parent
HEADLINE = RESULTS / "curve" / "steps040"  # full test data, 40 steps, paper-style MLIR
PARETO = RESULTS / "pareto"  # full test data, 40 steps, WiSE-FT 0.2, 3 seeds, pooled MLIR
SUBSAMPLED = RESULTS / "paper-cpu"  # 100 questions per language, pooled MLIR (BL-CS, translate-test)
HELDOUT = RESULTS / "heldout"  # ML-CS with lexicons for half of the XQuAD-R languages (22.4, claim 7)
NOISE = RESULTS / "noise"  # the same ML-CS with MUSE, shuffled MUSE and encoder-induced lexicons (22.5)
MIXED_QUERIES = RESULTS / "cs-queries"  # English questions switched with XLING into de / ru (issue 22.6)
CURVE = RESULTS / "curve"  # the headline's recipe trained 40, 80, 160, 320 and 587 steps (issue 22.3)
SWITCHED_VS_ENGLISH = (("ml-cs", "en"), ("ml-cs-wise", "en-wise"))  # each code-switched row, its twin
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
    return {p: float(np.mean([m["clir"]["by_pair"][p] for m in metrics.values()])) for p in pairs}


def switched_languages(config: Path, method: str) -> set[str]:
    """The languages ``method`` of the config's committed ``config.toml`` switches into (an
    interpolation's: its base's)."""
    methods = load_config(config / "config.toml").methods
    return set(methods[methods[method].base or method].switch_languages)


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


def tatoeba(metrics: dict[int, dict], lang: str) -> float:
    """Tatoeba acc@1 of ``lang`` (mean of both directions), averaged over seeds."""
    return float(np.mean([m["tatoeba"]["by_language"][lang]["mean"] for m in metrics.values()]))


def recipe_evidence(config: Path, cs_name: str, en_name: str, untouched_name: str,
                    columns: tuple[str, ...]) -> None:
    """Claims (1), (2), (3), (5), (7), (8) for one comparison of a config: the code-switched row
    ``cs_name`` against its English-only twin ``en_name`` and the untouched model."""
    cs, en = runs(config, cs_name), runs(config, en_name)
    seeds = sorted(set(cs) & set(en))  # compared on the seeds both have (paired)
    cs, en = {s: cs[s] for s in seeds}, {s: en[s] for s in seeds}
    untouched = runs(config, untouched_name)[0]
    print(f"\n## {config.relative_to(RESULTS.parent)}: {cs_name} (seeds {sorted(cs)}) vs {en_name} "
          f"(seeds {sorted(en)}) and {untouched_name}\n")
    print("### (1) CLIR and MLIR improve; (2) monolingual retrieval (MoIR) is not hurt\n")
    print("| metric | code-switched - English-only | code-switched - untouched | English-only - untouched |")
    print("|---|---|---|---|")
    for name in columns:
        base = headline_metrics(untouched)[name]
        print(f"| {name} | {compare(column(cs, name), column(en, name))} | {compare(column(cs, name), base)} "
              f"| {compare(column(en, name), base)} |")

    zero, switched, off = pair_scores(en), pair_scores(cs), pair_scores({0: untouched})
    gain = {p: switched[p] - zero[p] for p in switched}
    wins = {name: sum(headline_metrics(cs[s])[name] > headline_metrics(en[s])[name] for s in seeds)
            for name in ("CLIR", "MLIR") if name in columns}
    ahead = [f"{name} ahead on {won}/{len(seeds)} seeds" for name, won in wins.items()]
    print(f"\n### (5) consistency: code-switched ahead on {sum(g > 0 for g in gain.values())}/110 CLIR pairs "
          f"(means over seeds); {', '.join(ahead)}\n")

    print("### (3) transfer loses more for distant pairs; (8) the gains are largest for them\n")
    groups = {"within {en, de, es}": lambda s, t: s in CLOSE and t in CLOSE,
              "one close, one distant": lambda s, t: (s in CLOSE) != (t in CLOSE),
              "both distant": lambda s, t: s not in CLOSE and t not in CLOSE}
    print("| pairs | untouched | English-only | code-switched | gain |")
    print("|---|---:|---:|---:|---:|")
    for label, keep in groups.items():
        means = [group_mean(scores, keep) for scores in (off, zero, switched)]
        print(f"| {label} ({sum(keep(*p.split('-')) for p in gain)}) | "
              + " | ".join(f"{m:.2f}" for m in means) + f" | {group_mean(gain, keep):+.2f} |")
    pairs = sorted(gain)
    rho = spearmanr([zero[p] for p in pairs], [gain[p] for p in pairs])
    print(f"\nSpearman between the English-only pair score and the gain over the 110 pairs: "
          f"{rho.statistic:+.2f} (p = {rho.pvalue:.2g}; pairs share languages, so not independent)")
    for pair in ("ar-ru", "ar-de", "zh-ar", "zh-ru", "en-de"):
        print(f"- {pair}: untouched {100 * off[pair]:.1f}, English-only {100 * zero[pair]:.1f}, "
              f"code-switched {100 * switched[pair]:.1f}")

    print("\n### (7) seen vs unseen switching languages (Tatoeba, acc@1 mean of both directions)\n")
    langs = sorted(next(iter(cs.values()))["tatoeba"]["by_language"])
    switched = switched_languages(config, cs_name)
    seen = [lang for lang in langs if lang in switched]  # Tatoeba's results are keyed by ISO 639-1
    for label, group in (("in the switching set", seen), ("outside it", [x for x in langs if x not in seen])):
        diffs = [tatoeba(cs, lang) - tatoeba(en, lang) for lang in group]
        print(f"- {label} ({len(group)} languages): code-switched - English-only {100 * np.mean(diffs):+.2f} "
              f"(languages ahead: {sum(d > 0 for d in diffs)}/{len(group)})")


def language_scores(m: dict) -> dict[str, dict[str, float]]:
    """One run's score of each language by measure: LAReQA mAP@20 and paper-MLIR MRR@10 of the
    language's questions, mean CLIR MRR@10 of the 20 ordered pairs it is in, Tatoeba acc@1."""
    pairs = m["clir"]["by_pair"]
    langs = sorted(m["lareqa"]["by_language"])
    return {
        "LAReQA": dict(m["lareqa"]["by_language"]),
        "MLIR": {lang: v["mrr@10"] for lang, v in m["mlir"]["by_language"].items()},
        "CLIR": {lang: float(np.mean([v for p, v in pairs.items() if lang in p.split("-")]))
                 for lang in langs},
        "Tatoeba": {lang: v["mean"] for lang, v in m["tatoeba"]["by_language"].items()},
    }


def heldout_evidence(config: Path) -> None:
    """Claim (7): do the gains reach languages the lexicons never switched into? Two ML-CS models,
    each switching into half of the ten non-English XQuAD-R languages; each language is scored by
    the model that switched into it minus the one that did not (the in-set advantage: language
    difficulty cancels), and every model's gain over English-only on the Tatoeba languages outside
    XTREME-R, fixed in the config before any run."""
    names = ("en", "ml-cs", "ml-cs-half-a", "ml-cs-half-b")
    rows = {name: runs(config, name) for name in names}
    print(f"\n## (7) held-out switching languages ({config.name})\n")
    print("Finished runs: " + ", ".join(f"{name} seeds {sorted(rows[name])}" for name in names))
    switched = {name: switched_languages(config, name) for name in names[1:]}
    seeds = sorted(set.intersection(*(set(rows[name]) for name in names)))
    if not seeds:
        print("\nNo seed has all four rows yet.")
        return
    scores = {name: {s: language_scores(rows[name][s]) for s in seeds} for name in names}
    a, b = "ml-cs-half-a", "ml-cs-half-b"
    other = {a: b, b: a}
    print(f"\nIn-set advantage (seeds {seeds}): the mean over the ten languages of the score of the half "
          f"that switched into the language minus the other half's; {a} = {sorted(switched[a])}, "
          f"{b} = {sorted(switched[b])}\n")

    def mean_difference(pairs: list[tuple[str, str, str]], measure: str) -> dict[int, float]:
        """Per seed, the mean over ``(row, other row, language)`` of row minus other on ``measure``."""
        return {s: float(np.mean([scores[row][s][measure][x] - scores[other_row][s][measure][x]
                                  for row, other_row, x in pairs])) for s in seeds}

    in_set = [(half, other[half], x) for half in (a, b) for x in sorted(switched[half])]
    for measure in ("LAReQA", "MLIR", "CLIR", "Tatoeba"):
        print(f"- {measure}: {compare(mean_difference(in_set, measure), 0.0)}")

    def gain(name: str, measure: str, langs: list[str]) -> str:
        """``name`` minus English-only over ``langs``, per seed, with its seed-level test."""
        if not langs:
            return "-"
        per_seed = mean_difference([(name, "en", x) for x in langs], measure)
        return f"{compare(per_seed, dict.fromkeys(seeds, 0.0))} [{len(langs)} languages]"

    xtreme = set(TATOEBA_XTREME_R_LANGUAGES.values())
    print("\nGain over English-only, mean over a group of languages (x100):\n")
    print("| group | " + " | ".join(names[1:]) + " |")
    print("|---|" + "---|" * (len(names) - 1))
    for measure in ("LAReQA", "MLIR", "CLIR", "Tatoeba"):
        for inside in (True, False):
            cells = []
            for name in names[1:]:
                langs = [x for x in scores["en"][seeds[0]][measure]
                         if x != "en" and x in xtreme and (x in switched[name]) == inside]
                cells.append(gain(name, measure, langs))
            where = "in the row's switching set" if inside else "outside it"
            where += " (XTREME-R)" * (measure == "Tatoeba")
            print(f"| {measure}, {where} | " + " | ".join(cells) + " |")
    held_out = sorted(set(scores["en"][seeds[0]]["Tatoeba"]) - xtreme)
    print("| Tatoeba, held out (outside XTREME-R) | " + " | ".join(gain(name, "Tatoeba", held_out)
                                                               for name in names[1:]) + " |")


def noise_evidence(config: Path, columns: tuple[str, ...]) -> None:
    """Issue 22.5: is the switching gain translation? ML-CS with MUSE against the same ML-CS with
    MUSE's translations permuted within each language (wrong meaning, right script and tokens) and
    with the encoder-induced lexicon (no dictionary), each also against English-only training."""
    names = {"MUSE": "ml-cs", "shuffled MUSE": "ml-cs-shuffled", "encoder lexicon": "ml-cs-encoder",
             "English-only": "en"}
    rows = {label: runs(config, name) for label, name in names.items()}
    print(f"\n## The noise control ({config.name}: the same ML-CS, three lexicons)\n")
    print("| row | seeds | " + " | ".join(columns) + " |")
    print("|---|---:|" + "---:|" * len(columns))
    for label, metrics in rows.items():
        means = [100 * np.mean(list(column(metrics, name).values())) for name in columns]
        print(f"| {label} | {len(metrics)} | " + " | ".join(f"{m:.2f}" for m in means) + " |")
    for a, b in (("shuffled MUSE", "MUSE"), ("encoder lexicon", "MUSE"), ("MUSE", "English-only"),
                 ("shuffled MUSE", "English-only"), ("encoder lexicon", "English-only")):
        cells = [f"{name} {compare(column(rows[a], name), column(rows[b], name))}" for name in columns]
        print(f"- {a} - {b}: {'; '.join(cells)}")


def mixed_query_evidence(config: Path) -> None:
    """Issue 22.6: how much each model loses when the questions are code-switched into the answer's
    language (a lexicon no training run uses), and whether code-switched training changes that."""
    rows = {name: runs(config, name) for name in ("off-the-shelf", "en", "ml-cs", "en-wise", "ml-cs-wise")}
    settings = sorted(rows["en"][0]["cs-queries"]["by_setting"])

    def drop(metrics: dict[int, dict], setting: str | None = None) -> dict[int, float]:
        return {seed: m["cs-queries"]["drop"] if setting is None
                else m["cs-queries"]["by_setting"][setting]["drop"] for seed, m in metrics.items()}

    print(f"\n## Code-switched queries ({config.name}: XLING into de / ru; drop = clean minus switched "
          "MRR@10, larger is worse)\n")
    print("| model | seeds | clean | switched | drop | " + " | ".join(f"drop {s}" for s in settings) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(settings))
    for name, metrics in rows.items():
        switched = np.mean([m["cs-queries"]["mrr@10"] for m in metrics.values()])
        cells = [np.mean(list(drop(metrics, s).values())) for s in [None, *settings]]
        clean = switched + cells[0]
        print(f"| {name} | {len(metrics)} | {100 * clean:.2f} | {100 * switched:.2f} | "
              + " | ".join(f"{100 * c:.2f}" for c in cells) + " |")
    untouched = drop(rows["off-the-shelf"])[0]
    for trained in ("en", "ml-cs", "en-wise", "ml-cs-wise"):
        print(f"- drop, {trained} - untouched: {compare(drop(rows[trained]), untouched)}")
    for cs_name, en_name in SWITCHED_VS_ENGLISH:
        switched = [{s: m["cs-queries"]["mrr@10"] for s, m in rows[n].items()} for n in (cs_name, en_name)]
        print(f"- drop, {cs_name} - {en_name}: {compare(drop(rows[cs_name]), drop(rows[en_name]))}; "
              f"switched MRR@10, {cs_name} - {en_name}: {compare(*switched)}")


def curve_evidence(columns: tuple[str, ...]) -> None:
    """Issue 22.3: does the switching gain grow with training (raw and WiSE-FT against their
    English-only twins), and does monolingual retrieval hold (each trained row against the untouched
    model)? One row per committed point of the curve and comparison, on the seeds both rows have."""
    points = []
    for path in CURVE.glob("steps*/config.toml"):
        (steps,) = load_config(path).trained_steps()  # a point trains every method equally long
        points.append((steps, path.parent))
    points.sort()
    print("\n## The learning curve (curve/steps*: the headline's recipe trained longer; 587 steps = one "
          "epoch)\n")
    print("| steps | comparison | " + " | ".join(columns) + " |")
    print("|---:|---|" + "---|" * len(columns))
    trained_rows = {}  # steps -> {method: {seed: metrics}}, read once for both tables
    for steps, config in points:
        rows = {name: runs(config, name) for name in ("en", "ml-cs", "en-wise", "ml-cs-wise")}
        trained_rows[steps] = rows
        for a, b in SWITCHED_VS_ENGLISH:
            if rows[a] and rows[b]:
                cells = [compare(column(rows[a], name), column(rows[b], name)) for name in columns]
                print(f"| {steps} | {a} - {b} | " + " | ".join(cells) + " |")
        untouched = runs(config, "off-the-shelf")
        if not untouched:
            continue
        fixed = headline_metrics(untouched[0])  # evaluated once: each trained row against its value
        for a, metrics in rows.items():
            if metrics:
                cells = [compare(column(metrics, name), fixed[name]) for name in columns]
                print(f"| {steps} | {a} - untouched | " + " | ".join(cells) + " |")
    curve_growth(trained_rows, columns)


def seed_gains(a: dict[int, dict], b: dict[int, dict], name: str) -> np.ndarray:
    """``a - b`` in ``name`` for each seed both rows have, one value per pair of training runs."""
    scores_a, scores_b = column(a, name), column(b, name)
    return np.array([scores_a[s] - scores_b[s] for s in sorted(set(scores_a) & set(scores_b))])


def curve_growth(trained_rows: dict[int, dict[str, dict[int, dict]]], columns: tuple[str, ...]) -> None:
    """Does the switching gain grow? Each later point's gain minus the first point's, tested over the
    training runs: the seeds' gains at two points are independent runs, so Welch's unpaired t-test.
    ``trained_rows`` maps each point's steps to its trained rows' ``{seed: metrics}``."""
    first_steps, *later = sorted(trained_rows)
    first = trained_rows[first_steps]
    print(f"\nGrowth of the switching gain: the gain at a point minus the gain at {first_steps} steps "
          "(Welch's t-test over the seeds' gains; a point needs 2 seeds)\n")
    print("| steps | comparison | " + " | ".join(columns) + " |")
    print("|---:|---|" + "---|" * len(columns))
    for steps in later:
        for a, b in SWITCHED_VS_ENGLISH:
            early_rows = (first[a], first[b])
            late_rows = (trained_rows[steps][a], trained_rows[steps][b])
            if min(len(set(x) & set(y)) for x, y in (early_rows, late_rows)) < 2:  # shared seeds
                continue
            cells = []
            for name in columns:
                late, early = seed_gains(*late_rows, name), seed_gains(*early_rows, name)
                p = ttest_ind(late, early, equal_var=False).pvalue
                cells.append(f"{100 * (late.mean() - early.mean()):+.2f} (p = {p:.3g}, n = {len(late)} / "
                             f"{len(early)})")
            print(f"| {steps} | {a} - {b} | " + " | ".join(cells) + " |")


def main() -> int:
    print("# The evidence for the paper's claims\n\nGenerated by `python results/claims.py > "
          "results/claims-evidence.md` from the committed runs (do not edit); the verdicts are in "
          "[claims.md](claims.md). Values x100; `p` is the seed-level test (the training run is the unit).")
    headline = ("CLIR", "MLIR", "LAReQA", "MoIR", "Tatoeba")
    recipe_evidence(HEADLINE, "ml-cs", "en", "off-the-shelf", headline)
    recipe_evidence(HEADLINE, "ml-cs-wise", "en-wise", "off-the-shelf", headline)
    # the issue-13 recipe (WiSE-FT 0.2, 3 seeds); its MLIR is the pooled one, left out here
    recipe_evidence(PARETO, "ml-cs-wise", "zero-shot", "off-the-shelf", ("CLIR", "LAReQA", "MoIR", "Tatoeba"))

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
    heldout_evidence(HELDOUT)
    noise_evidence(NOISE, headline)
    mixed_query_evidence(MIXED_QUERIES)
    curve_evidence(headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
