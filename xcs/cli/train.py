"""``xcs train``: train one dual encoder (zero-shot or code-switched); works under ``torchrun``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from xcs.cli.arguments import name_list, number_list, positive_int
from xcs.cli.schema import add_schema_flags, given_fields
from xcs.training.config import TrainConfig  # torch-free: the flags are generated from it

if TYPE_CHECKING:
    from xcs.data.pairs import TrainPair

# what an `xcs train` run directory written before the output marker existed holds
TRAIN_RUN_FILES = ("checkpoint.pt", "train_log.json")
# code-switching flags: each needs --languages (without it the run is zero-shot and would ignore them);
# flag -> Method field (unset: the Method default)
_SWITCH_FLAGS = {"weights": "weights", "sides": "sides", "language-per": "language_per",
                 "example-p": "example_p", "p": "p", "p-start": "p_start", "lexicon": "lexicon",
                 "skip-stopwords": "skip_stopwords", "protect-names": "protect_names"}
# --train-file options: flag -> keyword of xcs.data.pairs_file.load_pairs_file (unset: its default)
_FILE_FLAGS = {"train-format": "format", "train-split": "split", "query-column": "query_column",
               "positive-column": "positive_column", "negative-columns": "negative_columns"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train one dual encoder (zero-shot or code-switched) on SQuAD pairs or your own",
        description="Train one model. Training options: every field of [train], one flag each (unset: the "
                    "TrainConfig default; a field that defaults to true is turned off by --no-NAME, e.g. "
                    "--no-shared-towers). Method options: a subset of "
                    "[methods.NAME] (languages, weights, sides, p, p_start, lexicon, align_weight); "
                    "per-side languages, lowercase and max_candidates need an experiment config "
                    "(see docs/training.md).")
    parser.add_argument("--out", required=True, help="run directory (checkpoint.pt, model/, train_log.json)")
    parser.add_argument("--model", default="default", help="'default' (mE5-small) or a checkpoint path")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu, cuda or cuda:N; under torchrun with CUDA "
                        "every rank takes cuda:LOCAL_RANK (nccl), else the CPU (gloo)")
    parser.add_argument("--languages", default=None, type=name_list,
                        help="code-switching targets, e.g. de or de,ar,ru,zh (several: ML-CS); omit it for a "
                        "zero-shot run (English only)")
    parser.add_argument("--weights", default=None, type=number_list,
                        help="ML-CS language weights, comma-separated, one per "
                        "language (default: uniform)")
    parser.add_argument("--sides", default=None, choices=["both", "query", "document"],
                        help="which texts are switched (default: both)")
    parser.add_argument("--language-per", default=None, choices=["word", "example"],
                        help="with several --languages: draw a language per word (ML-CS) or once per "
                             "training example, shared by its query and documents (Wiki-CS; default: word)")
    parser.add_argument("--example-p", type=float, default=None,
                        help="share of training pairs code-switched at all; the others stay English "
                             "(hybrid batches; default 1)")
    parser.add_argument("--p", type=float, default=None,
                        help="switch rate (end value with --p-start; default 0.5)")
    parser.add_argument("--p-start", type=float, default=None, help="switch rate at step 0 (linear schedule)")
    parser.add_argument("--lexicon", default=None, help="'muse' (default) or a path template with {lang}")
    parser.add_argument("--no-keep-case", action="store_true",
                        help="translations as the lexicon writes them (default: the source word's case)")
    parser.add_argument("--skip-stopwords", action="store_true", help="never switch a stopword on its own")
    parser.add_argument("--protect-names", action="store_true",
                        help="never switch a capitalised word inside a sentence on its own")
    parser.add_argument("--max-pairs", type=positive_int, default=None,
                        help="random subset of the training pairs")
    _add_file_arguments(parser)
    parser.add_argument("--max-query-length", type=positive_int, default=64)
    parser.add_argument("--max-document-length", type=positive_int, default=128)
    # every [train] field, generated from the schema (xcs.cli.schema): unset flags keep its defaults
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


def _training_pairs(args: argparse.Namespace, data: Path | None) -> list[TrainPair]:
    """SQuAD dev pairs minus XQuAD, or the pairs of ``--train-file``; ``--max-pairs`` subsamples either."""
    from xcs.data.pairs_file import load_pairs_file, subsample
    from xcs.experiment.data import training_pairs

    if args.train_file is None:  # file options without it were refused by _check_file_options
        return training_pairs(data, {"max_pairs": args.max_pairs})
    return subsample(load_pairs_file(args.train_file, **_file_options(args)), args.max_pairs)


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


def _switch_options(args: argparse.Namespace, languages: list[str]) -> dict[str, object]:
    """The ``Method`` fields of the code-switching flags given; refused without ``--languages``."""
    options = {field: getattr(args, flag.replace("-", "_")) for flag, field in _SWITCH_FLAGS.items()}
    options = {field: value for field, value in options.items() if value is not None and value is not False}
    if args.no_keep_case:
        options["keep_case"] = False
    if options and not languages:
        flags = [f"--{flag}" for flag, field in _SWITCH_FLAGS.items() if field in options]
        flags += ["--no-keep-case"] if args.no_keep_case else []
        raise ValueError(f"{', '.join(flags)}: code-switching options, which need --languages (without "
                         "it the run is zero-shot, English only, and would ignore them)")
    return options


def _train_command(args: argparse.Namespace) -> int:
    """``xcs train``: works under ``torchrun`` too (documents gathered across ranks in the loss)."""
    from xcs.experiment.batches import method_batch_builder
    from xcs.experiment.methods import Method, load_lexicons
    from xcs.io.paths import data_dir, output_directory
    from xcs.models.encoder import Encoder
    from xcs.training.devices import init_distributed_from_env, resolve_device
    from xcs.training.loop import train

    # the flags first: a bad or ignored one is refused before anything is created or loaded
    languages = args.languages or []  # name_list: given, it names at least one language
    method = Method(name="cli", strategy="code-switch" if languages else "zero-shot", languages=languages,
                    **_switch_options(args, languages))
    _check_train_flags(args)
    _check_file_options(args)
    # before data, model and lexicons load: a new or empty directory, or an earlier `xcs train` run
    # (resumed), never another command's output, an input or the model cache
    output_directory(args.out, "--out", command="xcs train", overwrite=args.overwrite,
                     inputs=[("--model", args.model), ("--train-file", args.train_file)],
                     legacy=TRAIN_RUN_FILES)
    rank_device = init_distributed_from_env(args.device)  # None outside torchrun
    device = rank_device if rank_device is not None else resolve_device(args.device)
    data = data_dir(args.data_dir, required=args.train_file is None or bool(languages))  # SQuAD, lexicons
    # the lexicons before the model: a language without one is refused before any work
    lexicons = load_lexicons(method, languages, data) if languages else {}
    pairs = _training_pairs(args, data)
    config = _train_config(args, pairs)
    encoder = Encoder(args.model, device=device)
    builder = method_batch_builder(
        encoder.tokenizer, method, lexicons=lexicons, seed=config.seed, total_steps=config.steps,
        query_prefix=encoder.query_prefix, passage_prefix=encoder.passage_prefix,
        max_query_length=args.max_query_length, max_document_length=args.max_document_length,
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
