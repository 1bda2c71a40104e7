"""The experiment's summary for people: the paper-layout Markdown tables and the plots."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xcs.io.atomic import atomic_path


def rerank_table(rerank: Mapping[str, Any], alpha: float = 0.05) -> str:
    """Markdown: one row per reranker, ``before -> after`` MRR@10 (x100) per pair."""
    if not rerank:
        return ""
    pairs = list(next(iter(rerank.values())))
    lines = ["| reranker | " + " | ".join(pairs) + " |", "|---|" + "---:|" * len(pairs)]
    for name, entry in rerank.items():
        cells = []
        for pair in pairs:
            cell = entry[pair]
            mark = "*" if cell["p_bonferroni"] < alpha and cell["after"] > cell["before"] else (
                "-" if cell["p_bonferroni"] < alpha else "")
            cells.append(f"{100 * cell['before']:.1f} → {100 * cell['after']:.1f}{mark}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return ("\n## Reranking the baseline's top-k (MRR@10 before → after)\n\n" + "\n".join(lines)
            + "\n\n`*` / `-`: after significantly better / worse than before (paired t-test, Bonferroni).\n")


def significance_mark(test: Mapping[str, Any], alpha: float, better: str, worse: str,
                      per_query_only: str = "") -> str:
    """``better`` / ``worse`` when the seed-level test (Bonferroni-corrected) rejects at ``alpha``;
    ``per_query_only`` when only the per-query test does (query sampling alone, not training
    variance); else ``""``."""
    if test.get("p_seeds_bonferroni", 1.0) < alpha:
        return better if test["delta_seeds"] > 0 else worse
    if test.get("p_bonferroni", 1.0) < alpha:
        return per_query_only
    return ""


def markdown_table(summary: Mapping[str, Any], alpha: float = 0.05) -> str:
    """The paper's layout; values are x100, mean over seeds (± std when > 1 seed). ``*`` / ``-``
    mark significant gains / losses vs the baseline, ``▲`` / ``▼`` vs the reference, under the
    seed-level test (Bonferroni-corrected p < ``alpha``); ``°`` marks a difference only the
    per-query test finds."""
    methods = summary["methods"]
    if not methods:
        return "(no finished runs)\n"
    cols = list(next(iter(methods.values())))
    lines = ["| method | seeds | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
    for name, entry in methods.items():
        cells = [str(len(entry[cols[0]]["seeds"]))]
        control = next((cell["control"] for cell in entry.values() if "control" in cell), None)
        label = f"{name} (vs `{control}`)" if control else name
        for col in cols:
            cell = entry.get(col)
            if cell is None:
                cells.append("")
                continue
            text = f"{100 * cell['mean']:.1f}"
            if len(cell["seeds"]) > 1:
                text += f" ±{100 * cell['std']:.1f}"
            text += significance_mark(cell, alpha, "*", "-", "°")
            text += significance_mark(cell.get("vs_reference", {}), alpha, "▲", "▼")
            cells.append(text)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    reference = f"; `▲` / `▼`: than `{summary['reference']}`" if summary.get("reference") else ""
    seed_tested = any("p_seeds_bonferroni" in cell or "p_seeds_bonferroni" in cell.get("vs_reference", {})
                      for entry in methods.values() for cell in entry.values())
    note = (f"\nBaseline: `{summary['baseline']}`. `*` / `-`: significantly better / worse than the baseline "
            "(or the control a row names)"
            f"{reference}, under the seed-level test (paired t-test over the seeds' means: the training run "
            f"is the unit), Bonferroni over the table's {summary.get('n_tests', '')} tests, p < {alpha}. "
            "`°`: significantly different from the baseline under the per-query t-test only (query sampling, "
            "not training variance)."
            + ("" if seed_tested else " Fewer than two seeds: no seed-level test, so no difference is called "
               "significant.")
            + " Values x100.\n")
    if summary.get("mlir"):
        note += f"MLIR: {summary['mlir']}.\n"
    return "\n".join(lines) + "\n" + note


def plots(summary: Mapping[str, Any], out_dir: Path, pairs: Sequence[str],
          untouched: str | None = None) -> list[Path]:
    """``pairs.png`` (grouped bars per CLIR pair), ``p_sweep.png`` when methods sweep p, and
    ``pareto.png`` when the untouched model (the method named ``untouched``) is among the rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    methods = summary["methods"]
    shown = [p for p in pairs if any(p in entry for entry in methods.values())]
    if shown:
        fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(shown)), 3.5))
        width = 0.8 / max(1, len(methods))
        for i, (name, entry) in enumerate(methods.items()):
            xs = np.arange(len(shown)) + i * width
            ax.bar(xs, [100 * entry.get(p, {}).get("mean", math.nan) for p in shown], width, label=name)
        ax.set_xticks(np.arange(len(shown)) + 0.4 - width / 2, shown)
        ax.set_ylabel("CLIR MRR@10 (x100)")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(4, len(methods)))
        fig.tight_layout()
        written.append(_save_figure(fig, out_dir / "pairs.png"))
        plt.close(fig)
    sweeps: dict[str, list[tuple[float, float]]] = {}
    for name, entry in methods.items():
        if "@p=" in name:
            base, p = name.split("@p=")
            for col in ("CLIR", "MoIR", "MLIR"):
                if col in entry:
                    sweeps.setdefault(f"{base} {col}", []).append((float(p), 100 * entry[col]["mean"]))
    if sweeps:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for label, points in sweeps.items():
            points.sort()
            ax.plot([p for p, _ in points], [v for _, v in points], marker="o", label=label)
        if summary["baseline"] in methods:
            for col in ("CLIR",):
                value = methods[summary["baseline"]].get(col, {}).get("mean")
                if value is not None:
                    ax.axhline(100 * value, linestyle="--", color="grey",
                               label=f"{summary['baseline']} {col}")
        ax.set_xlabel("switch rate p")
        ax.set_ylabel("MRR@10 (x100)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save_figure(fig, out_dir / "p_sweep.png"))
        plt.close(fig)
    if untouched in methods:
        written.append(pareto_plot(summary, out_dir / "pareto.png", untouched))
    return written


def pareto_plot(summary: Mapping[str, Any], path: Path, untouched: str,
                axes: Sequence[tuple[str, str]] = (("MoIR", "CLIR"), ("MoIR", "LAReQA"))) -> Path:
    """One panel per (x, y) column pair: a point per method at its mean over seeds, error bars one
    std over seeds, the untouched model a star with dashed lines through it (the region up and to
    the right of it is better on both metrics). Values x100."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = summary["methods"]
    fig, panels = plt.subplots(1, len(axes), figsize=(5.5 * len(axes), 4.5), squeeze=False)
    for ax, (x_col, y_col) in zip(panels[0], axes, strict=True):
        for name, entry in methods.items():
            if x_col not in entry or y_col not in entry:
                continue
            x, y = 100 * entry[x_col]["mean"], 100 * entry[y_col]["mean"]
            if name == untouched:
                ax.plot([x], [y], marker="*", markersize=14, color="black", linestyle="none")
                ax.axvline(x, color="grey", linestyle="--", linewidth=0.8)
                ax.axhline(y, color="grey", linestyle="--", linewidth=0.8)
            else:
                ax.errorbar([x], [y], xerr=[100 * entry[x_col]["std"]], yerr=[100 * entry[y_col]["std"]],
                            marker="o", markersize=5, capsize=3, linestyle="none")
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlabel(f"{x_col} (x100)")
        ax.set_ylabel(f"{y_col} (x100)")
        ax.set_title(f"{y_col} against {x_col}; star: {untouched}", fontsize=9)
    fig.tight_layout()
    _save_figure(fig, path)
    plt.close(fig)
    return path


def _save_figure(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    return path


def _curve_axes(points: Mapping[int, Mapping[str, Any]]) -> tuple[list[int], list[str]]:
    """The points' steps in order and every method any point has, in order of first appearance."""
    steps = sorted(points)
    return steps, list(dict.fromkeys(name for s in steps for name in points[s]["methods"]))


def learning_curve_table(points: Mapping[int, Mapping[str, Any]],
                         columns: Sequence[str] = ("MoIR", "CLIR", "MLIR", "LAReQA", "Tatoeba"),
                         alpha: float = 0.05) -> str:
    """Markdown: one table per column, one row per method, one column per number of training steps.
    A cell is the mean over seeds (x100; ± std and the number of seeds when > 1) and, for a method
    tested against a control (its own or the baseline), ``Δ`` = method minus control with the
    seed-level p (``*`` when significant after the point's Bonferroni correction, at ``alpha``; with
    one seed the difference alone). ``points`` maps steps to ``summary.json`` as in
    :func:`learning_curve_plots`."""
    steps, methods = _curve_axes(points)
    lines = []
    for column in columns:
        if not any(column in points[s]["methods"].get(name, {}) for s in steps for name in methods):
            continue
        lines += [f"\n## {column}\n", "| method | " + " | ".join(f"{s} steps" for s in steps) + " |",
                  "|---|" + "---:|" * len(steps)]
        for name in methods:
            cells, controls = [], set()
            for s in steps:
                summary = points[s]
                cell = summary["methods"].get(name, {}).get(column)
                if cell is None:
                    cells.append("")
                    continue
                n = len(cell["seeds"])
                text = f"{100 * cell['mean']:.1f}" + (f" ±{100 * cell['std']:.1f} ({n})" if n > 1 else "")
                control = cell.get("control", summary.get("baseline"))
                theirs = summary["methods"].get(control, {}).get(column)
                if control != name and theirs is not None and name != summary.get("reference"):
                    controls.add(control)
                    text += " · " + _difference(cell, theirs, alpha)
                cells.append(text)
            label = f"{name} (Δ vs `{'`, `'.join(sorted(controls))}`)" if controls else name
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if not lines:
        return "(no point has any of the columns)\n"
    return ("Values x100: mean over seeds ± std (seeds). `Δ`: the method minus its control, with the "
            "seed-level p (paired over the seeds: the training run is the unit); `*`: significant after "
            f"the point's Bonferroni correction (p < {alpha}).\n" + "\n".join(lines) + "\n")


def _difference(cell: Mapping[str, Any], control: Mapping[str, Any], alpha: float) -> str:
    """``Δ +x.xx (p = ...)`` from a summary cell's seed-level test of ``cell`` against ``control``; the
    difference of the means alone when there was no test (one seed)."""
    if "delta_seeds" in cell:
        mark = "*" if cell.get("p_seeds_bonferroni", 1.0) < alpha else ""
        return f"Δ {100 * cell['delta_seeds']:+.2f}{mark} (p = {cell['p_seeds']:.2g})"
    shared = sorted(set(cell["seeds"]) & set(control["seeds"])) or sorted(cell["seeds"])
    theirs = [control["seeds"].get(s, control["mean"]) for s in shared]
    delta = float(np.mean([cell["seeds"][s] for s in shared]) - np.mean(theirs))
    return f"Δ {100 * delta:+.2f} (no test: {len(shared)} seed{'s' * (len(shared) != 1)})"


def learning_curve_plots(points: Mapping[int, Mapping[str, Any]], out_dir: Path,
                         columns: Sequence[str] = ("MoIR", "CLIR", "MLIR", "LAReQA", "Tatoeba"),
                         ) -> list[Path]:
    """``curve_COLUMN.png`` for each column: every method's mean over seeds (error bars: std) against
    the number of training steps. ``points`` maps steps to the ``summary.json`` of the experiment
    trained that long (the same methods at every point; a method missing at a point is skipped
    there). Values x100."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, methods = _curve_axes(points)
    written = []
    for column in columns:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        drawn = False
        for name in methods:
            xs, ys, errs = [], [], []
            for s in steps:
                cell = points[s]["methods"].get(name, {}).get(column)
                if cell is not None:
                    xs.append(s)
                    ys.append(100 * cell["mean"])
                    errs.append(100 * cell["std"])
            if xs:
                ax.errorbar(xs, ys, yerr=errs, marker="o", markersize=4, capsize=3, label=name)
                drawn = True
        if not drawn:
            plt.close(fig)
            continue
        ax.set_xscale("log")
        ax.minorticks_off()  # the log axis's own minor labels (5x10^1, ...) would crowd the steps' labels
        ax.set_xticks(steps, [str(s) for s in steps])
        ax.set_xlabel("training steps (batch 16)")
        ax.set_ylabel(f"{column} (x100)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save_figure(fig, out_dir / f"curve_{column}.png"))
        plt.close(fig)
    return written
