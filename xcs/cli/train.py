"""``xcs train``: train one dual encoder (zero-shot or code-switched); works under ``torchrun``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from xcs.cli.arguments import name_list
from xcs.cli.schema import add_schema_flags, given_fields, schema_flags
from xcs.data.options import DataOptions  # torch-free, like the two below: the flags come from them
from xcs.switching.recipe import SwitchingRecipe
from xcs.training.config import TrainConfig

if TYPE_CHECKING:
    from xcs.data.pairs import TrainPair

# what an `xcs train` run directory written before the output marker existed holds
TRAIN_RUN_FILES = ("checkpoint.pt", "train_log.json")
# --train-file options: flag -> keyword of xcs.data.pairs_file.load_pairs_file (unset: its default)
_FILE_FLAGS = {"train-format": "format", "train-split": "split", "query-column": "query_column",
               "positive-column": "positive_column", "negative-columns": "negative_columns"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train one dual encoder (zero-shot or code-switched) on SQuAD pairs or your own",
        description="Train one model. Every option of the schemas has one flag (unset: the schema's default; "
                    "a field that defaults to true is turned off by --no-NAME, e.g. --no-shared-towers): the "
                    "code-switching recipe (SwitchingRecipe, the recipe keys of [methods.NAME]; without "
                    "--languages, --query-languages or --document-languages the run is English only), the "
                    "data ([data]) and the training ([train], TrainConfig); see docs/training.md.")
    parser.add_argument("--out", required=True, help="run directory (checkpoint.pt, model/, train_log.json)")
    parser.add_argument("--model", default="default", help="'default' (mE5-small) or a checkpoint path")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu, cuda or cuda:N; under torchrun with CUDA "
                        "every rank takes cuda:LOCAL_RANK (nccl), else the CPU (gloo)")
    # the schemas' fields, one flag each (xcs.cli.schema): unset flags keep their defaults
    add_schema_flags(parser.add_argument_group("code-switching (SwitchingRecipe)"), SwitchingRecipe,
                     "[methods.NAME]")
    add_schema_flags(parser.add_argument_group("data ([data])"), DataOptions, "[data]")
    _add_file_arguments(parser)
    add_schema_flags(parser.add_argument_group("training ([train], TrainConfig)"), TrainConfig, "[train]")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out that xcs train did not create (its checkpoint.pt, "
                        "model/, train_log.json are replaced)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_train_command)


def _add_file_arguments(parser: argparse.ArgumentParser) -> None:
    """``--train-file`` and the options that say how to read it (see docs/training.md)."""
    from xcs.data.pairs_file import PAIRS_FILE_FORMATS

    group = parser.add_argument_group("own training pairs (instead of SQuAD dev)")
    group.add_argument("--train-file", default=None, help="JSON Lines (.jsonl/.json), TSV or CSV (each "
                       "optionally .gz) with a header / keys naming the columns, or a directory written by "
                       "datasets' save_to_disk")
    group.add_argument("--train-format", choices=PAIRS_FILE_FORMATS, default=None,
                       help="override the format detected from the suffix")
    group.add_argument("--train-split", default=None, help="split of a saved DatasetDict (default: train)")
    group.add_argument("--query-column", default=None, help="column of the queries (default: query)")
    group.add_argument("--positive-column", default=None, help="column of the positives (default: positive)")
    group.add_argument("--negative-columns", default=None, type=name_list,
                       help="comma-separated columns of hard negatives, each holding one text or a list "
                       "of texts; then --hard-negatives defaults to 'given' (each pair's own negatives)")


def _file_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``load_pairs_file`` keywords of the ``--train-file`` options given."""
    options = {keyword: getattr(args, flag.replace("-", "_")) for flag, keyword in _FILE_FLAGS.items()}
    return {keyword: value for keyword, value in options.items() if value is not None}


def _check_file_options(args: argparse.Namespace) -> None:
    """What can be checked of ``--train-file`` and its options without reading it (none without it)."""
    from xcs.data.pairs_file import check_pairs_file_options

    options = _file_options(args)
    if args.train_file is None:
        if options:
            flags = [f"--{flag}" for flag, keyword in _FILE_FLAGS.items() if keyword in options]
            raise ValueError(f"{', '.join(flags)}: only with --train-file")
        return
    if Path(args.train_file).exists():  # a missing file is reported where it is read, after --out's checks
        check_pairs_file_options(args.train_file, **options)


def _training_pairs(args: argparse.Namespace, data_dir: Path | None, data: DataOptions) -> list[TrainPair]:
    """SQuAD dev pairs minus XQuAD, or the pairs of ``--train-file``; ``--max-pairs`` subsamples either."""
    from xcs.data.pairs_file import load_pairs_file, subsample
    from xcs.experiment.data import training_pairs

    if args.train_file is None:  # file options without it were refused by _check_file_options
        return training_pairs(data_dir, data)
    return subsample(load_pairs_file(args.train_file, **_file_options(args)), data.max_pairs)


def _train_config(args: argparse.Namespace, pairs: list[TrainPair]) -> TrainConfig:
    """The flags' ``TrainConfig`` (unset: its defaults). Pairs with their own negatives default to
    ``hard_negatives = "given"``, as many per query as each pair has."""
    given = given_fields(args, TrainConfig)
    per_pair = len(pairs[0].negatives) if pairs else 0
    if per_pair and "hard_negatives" not in given:
        given["hard_negatives"] = "given"
    if given.get("hard_negatives") == "given" and "num_hard_negatives" not in given:
        given["num_hard_negatives"] = per_pair
    mode, count = given.get("hard_negatives"), given.get("num_hard_negatives")
    if mode == "given" and not per_pair:
        raise ValueError("--hard-negatives given needs --train-file with --negative-columns (each pair's "
                         "own hard negatives)")
    if mode == "given" and count != per_pair:
        raise ValueError(f"{args.train_file}: every pair has {per_pair} hard negative(s) (--negative-columns "
                         f"{','.join(args.negative_columns)}), but --num-hard-negatives is {count}")
    if mode == "paragraph" and args.train_file is not None:
        raise ValueError("--hard-negatives paragraph draws from SQuAD paragraphs, which --train-file pairs "
                         "do not have; use 'given' (--negative-columns) or 'mined'")
    return TrainConfig(**given)


def _check_train_flags(args: argparse.Namespace) -> None:
    """The ``[train]`` flags' types and ranges (``TrainConfig``), checked before anything is created;
    :func:`_train_config` settles the hard-negative defaults that depend on the pairs."""
    given = given_fields(args, TrainConfig)
    mode = given.get("hard_negatives") or ("given" if args.negative_columns else "none")
    if "mine_every" in given and mode != "mined":
        raise ValueError(f"--mine-every {given['mine_every']}: it re-mines the negatives of --hard-negatives "
                         f"mined, but this run's hard negatives are {mode!r} (it would be ignored)")
    if "num_hard_negatives" in given and mode == "none":
        raise ValueError(f"--num-hard-negatives {given['num_hard_negatives']}: this run uses no hard "
                         "negatives (give --hard-negatives, or --negative-columns with --train-file; it "
                         "would be ignored)")
    TrainConfig(**given)


def _recipe(args: argparse.Namespace) -> SwitchingRecipe | None:
    """The code-switching flags' recipe; None (English only) without a language, where any other
    recipe flag is refused (it would be ignored)."""
    given = given_fields(args, SwitchingRecipe)
    recipe = SwitchingRecipe(**given)
    if recipe.target_languages:
        return recipe
    if given:
        flags = [f.flag for f in schema_flags(SwitchingRecipe) if f.field in given]
        raise ValueError(f"{', '.join(flags)}: code-switching options, which need --languages (or "
                         "--query-languages / --document-languages on a switched side); without one the run "
                         "is zero-shot, English only, and would ignore them")
    return None


def _data_options(args: argparse.Namespace) -> DataOptions:
    """The ``[data]`` flags' options; ``--no-hold-out-xquad`` only for the SQuAD pairs."""
    given = given_fields(args, DataOptions)
    if "hold_out_xquad" in given and args.train_file is not None:
        raise ValueError("--no-hold-out-xquad: only for the SQuAD training pairs, not --train-file")
    return DataOptions(**given)


def _train_command(args: argparse.Namespace) -> int:
    """``xcs train``: works under ``torchrun`` too (documents gathered across ranks in the loss)."""
    from xcs.io.paths import data_dir, output_directory
    from xcs.models.encoder import Encoder
    from xcs.training.collated import recipe_batch_builder
    from xcs.training.devices import init_distributed_from_env, resolve_device
    from xcs.training.loop import train

    # the flags first: a bad or ignored one is refused before anything is created or loaded
    recipe = _recipe(args)
    data_options = _data_options(args)
    _check_train_flags(args)
    _check_file_options(args)
    # before data, model and lexicons load: a new or empty directory, or an earlier `xcs train` run
    # (resumed), never another command's output, an input or the model cache
    output_directory(args.out, "--out", command="xcs train", overwrite=args.overwrite,
                     inputs=[("--model", args.model), ("--train-file", args.train_file)],
                     legacy=TRAIN_RUN_FILES)
    rank_device = init_distributed_from_env(args.device)  # None outside torchrun
    device = rank_device if rank_device is not None else resolve_device(args.device)
    data = data_dir(args.data_dir, required=args.train_file is None or recipe is not None)  # SQuAD, lexicons
    # the lexicons before the model: a language without one is refused before any work
    lexicons = recipe.load_lexicons(data) if recipe is not None else None
    pairs = _training_pairs(args, data, data_options)
    config = _train_config(args, pairs)
    encoder = Encoder(args.model, device=device)
    builder = recipe_batch_builder(
        encoder.tokenizer, recipe, lexicons=lexicons, seed=config.seed, total_steps=config.steps,
        query_prefix=encoder.query_prefix, passage_prefix=encoder.passage_prefix,
        max_query_length=data_options.max_query_length, max_document_length=data_options.max_document_length,
        align=config.needs_originals)
    result = train(encoder, pairs, builder, config, args.out, resume=not args.no_resume,
                   progress=not args.no_progress)
    speed = None if result.steps_per_s is None else round(result.steps_per_s, 3)  # None: no step trained
    print(json.dumps({"out": str(result.out_dir), "steps": len(result.losses), "first_loss": result.losses[0],
                      "last_loss": result.losses[-1], "wall_s": round(result.wall_s, 1),
                      "steps_per_s": speed, "train_pairs": len(pairs),
                      "train_file": args.train_file, "hard_negatives": config.hard_negatives,
                      "device": str(device)}, allow_nan=False))
    return 0
