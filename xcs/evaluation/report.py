"""Reading evaluation results back (the headline columns, per-query scores) and writing them for
people (a Markdown report, the CLIR heatmap)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xcs.evaluation.protocol import PAPER_PAIRS
from xcs.io.atomic import atomic_path


def headline_metrics(metrics: Mapping[str, Any], pairs: Sequence[str] = PAPER_PAIRS) -> dict[str, float]:
    """The paper-table columns of one ``metrics.json``: MoIR / CLIR / MLIR MRR@10 averages, the given
    CLIR pairs, LAReQA mAP@20 and Tatoeba acc@1, and with ``cs-queries`` the code-switched queries'
    MRR@10 and its drop from the clean queries (only the tasks present, and only defined values: an
    average over no pair is ``null``)."""
    out: dict[str, float] = {}
    if "moir" in metrics:
        out["MoIR"] = metrics["moir"]["mrr@10"]
    if "clir" in metrics:
        out["CLIR"] = metrics["clir"]["mrr@10"]
    if "mlir" in metrics:
        out["MLIR"] = metrics["mlir"]["mrr@10"]
    if "clir" in metrics:
        for pair in pairs:
            if pair in metrics["clir"]["by_pair"]:
                out[pair] = metrics["clir"]["by_pair"][pair]
    if "lareqa" in metrics:
        out["LAReQA"] = metrics["lareqa"]["map@20"]
    if "tatoeba" in metrics:
        out["Tatoeba"] = metrics["tatoeba"]["acc@1"]
    if "cs-queries" in metrics:  # code-switched queries: their MRR@10, and the drop from clean ones
        out["CS-queries"] = metrics["cs-queries"]["mrr@10"]
        out["CS-drop"] = metrics["cs-queries"]["drop"]
    return {column: value for column, value in out.items() if value is not None}  # None: undefined


def headline_columns(arrays: Mapping[str, np.ndarray],
                     pairs: Sequence[str] = PAPER_PAIRS) -> dict[str, np.ndarray]:
    """Per-query arrays keyed like :func:`headline_metrics`, from ``task/metric/lang-or-pair`` keys
    (the averages concatenate their languages / pairs in sorted order; Tatoeba both directions)."""

    def joined(prefix: str) -> np.ndarray | None:
        keys = sorted(k for k in arrays if k.startswith(prefix))
        return np.concatenate([arrays[k] for k in keys]) if keys else None

    out: dict[str, np.ndarray] = {}
    for column, prefix in (("MoIR", "moir/mrr@10/"), ("CLIR", "clir/mrr@10/"), ("MLIR", "mlir/mrr@10/")):
        values = joined(prefix)
        if values is not None:
            out[column] = values
    for pair in pairs:
        if f"clir/mrr@10/{pair}" in arrays:
            out[pair] = arrays[f"clir/mrr@10/{pair}"]
    if "lareqa/map@20" in arrays:
        out["LAReQA"] = arrays["lareqa/map@20"]
    tatoeba = joined("tatoeba/acc@1/")
    if tatoeba is not None:
        out["Tatoeba"] = tatoeba
    switched = sorted(k for k in arrays if k.startswith("cs-queries/mrr@10/"))
    if switched:  # each setting en-X@p=P against the same questions unswitched
        out["CS-queries"] = np.concatenate([arrays[k] for k in switched])
        pair = {k: k.rsplit("/", 1)[1].split("@")[0] for k in switched}  # en-X@p=P -> en-X
        out["CS-drop"] = np.concatenate([arrays[f"cs-queries-clean/mrr@10/{pair[k]}"] - arrays[k]
                                         for k in switched])
    return out


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:  # an object array is refused, never unpickled
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable .npz file ({exc}); re-run `xcs eval` for it") from None


def load_per_query(
    run_dir: str | os.PathLike[str], pairs: Sequence[str] = PAPER_PAIRS
) -> dict[str, np.ndarray]:
    """Per-query float64 scores of a run directory, keyed like :func:`headline_metrics` (see
    :func:`headline_columns`); two runs of the same data and options line up query by query."""
    path = Path(run_dir) / "per_query.npz"
    if not path.exists():
        raise FileNotFoundError(f"no per-query scores in {run_dir} (expected {path.name})")
    return headline_columns({k: v.astype(np.float64) for k, v in _load_npz(path).items()}, pairs)


def load_query_ids(
    run_dir: str | os.PathLike[str], pairs: Sequence[str] = PAPER_PAIRS
) -> dict[str, np.ndarray] | None:
    """The query id of every per-query score (str arrays, same keys and order as
    :func:`load_per_query`), or None for a run written before ids were recorded."""
    path = Path(run_dir) / "query_ids.npz"
    return headline_columns(_load_npz(path), pairs) if path.exists() else None


def markdown_report(metrics: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    """A human-readable summary of one run (values x100)."""
    lines = ["# Retrieval evaluation", "", f"- model: `{info.get('model')}`",
             f"- tasks: {', '.join(info.get('tasks', []))}",
             f"- subsample: {info.get('subsample')} (seed {info.get('seed')})"]
    if info.get("command"):
        lines.append(f"- command: `{info['command']}`")
    timings = info.get("timings", {})
    if timings:
        lines.append(f"- wall time: {timings.get('total_s')} s (" + ", ".join(
            f"{k} {v}" for k, v in timings.items() if k != "total_s") + ")")
    lines += ["", "## Headline (x100)", "", "| " + " | ".join(headline_metrics(metrics)) + " |",
              "|" + "---:|" * len(headline_metrics(metrics)),
              "| " + " | ".join(f"{100 * v:.2f}" for v in headline_metrics(metrics).values()) + " |"]
    if "clir" in metrics:
        langs = metrics["clir"]["languages"]
        lines += ["", "## XQuAD-R MRR@10 matrix (rows: query language, columns: candidates; x100)", "",
                  "| q \\ c | " + " | ".join(langs) + " |", "|---|" + "---:|" * len(langs)]
        for lang, row in zip(langs, metrics["clir"]["matrix"], strict=True):
            cells = ("" if v is None else f"{100 * v:.1f}" for v in row)
            lines.append(f"| {lang} | " + " | ".join(cells) + " |")
    for task, key in (("lareqa", "map@20"), ("mlir", None)):
        if task in metrics:
            by = metrics[task]["by_language"]
            cells = [by[lang] if key else by[lang]["mrr@10"] for lang in by]
            lines += ["", f"## {task} by query language (x100, {key or 'mrr@10'})", "",
                      "| " + " | ".join(by) + " |", "|" + "---:|" * len(by),
                      "| " + " | ".join(f"{100 * v:.1f}" for v in cells) + " |"]
    if "tatoeba" in metrics:
        t = metrics["tatoeba"]
        title = (f"## Tatoeba acc@1 (x100): mean {100 * t['acc@1']:.2f},"
                 f" xx->en {100 * t['acc@1_xx->en']:.2f}, en->xx {100 * t['acc@1_en->xx']:.2f}"
                 f" over {t['n_languages']} languages")
        lines += ["", title, "",
                  "| lang | xx->en | en->xx |", "|---|---:|---:|"]
        for lang, v in t["by_language"].items():
            lines.append(f"| {lang} | {100 * v['xx->en']:.1f} | {100 * v['en->xx']:.1f} |")
    return "\n".join(lines) + "\n"


def plot_clir_heatmap(clir: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Heatmap PNG of the 11x11 XQuAD-R MRR@10 matrix (rows: query language)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = clir["languages"]
    matrix = np.array([[np.nan if v is None else v for v in row] for row in clir["matrix"]], dtype=float)
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(100 * matrix, cmap="viridis", vmin=0, vmax=100)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("query language")
    ax.set_title("XQuAD-R MRR@10 (x100)")
    for i in range(len(langs)):
        for j in range(len(langs)):
            if not np.isnan(matrix[i, j]):
                ax.text(j, i, f"{100 * matrix[i, j]:.0f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path
