"""What every example shares: its command line, the SQuAD training pairs and MUSE code-switchers.

The examples are plain scripts (``python examples/NAME.py --help``); CI runs each for 2 steps.
"""

from __future__ import annotations

import argparse

from xcs import CodeSwitcher, SwitchingRecipe
from xcs.experiment.data import training_pairs
from xcs.io.paths import data_dir


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default="default", help="'default' (mE5-small) or a checkpoint directory")
    parser.add_argument("--data-dir", default=None,
                        help="the shared data (default: $XCS_DATA_DIR or ../shared/data)")
    parser.add_argument("--languages", default="de,ar,ru,zh", help="code-switching targets (several: ML-CS)")
    parser.add_argument("--p", type=float, default=0.5, help="switch rate")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-pairs", type=int, default=None, help="random subset of the SQuAD pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/example", help="output directory")
    return parser.parse_args()


def squad_rows(args: argparse.Namespace) -> list[dict]:
    """``{"query", "document", "index"}`` rows: SQuAD v1.1 dev questions and answer sentences minus
    XQuAD's paragraphs (the experiment's training data)."""
    pairs = training_pairs(data_dir(args.data_dir), {"max_pairs": args.max_pairs}, seed=args.seed)
    return [{"query": p.query, "document": p.positive, "index": i} for i, p in enumerate(pairs)]


def anchor_positive_rows(args: argparse.Namespace) -> list[dict]:
    """:func:`squad_rows` with sentence-transformers' column names, in the order its losses read them
    (``MultipleNegativesRankingLoss``: anchor first, then positive)."""
    return [{"anchor": r["query"], "positive": r["document"], "index": r["index"]} for r in squad_rows(args)]


def muse_switchers(tokenizer, args: argparse.Namespace) -> tuple[CodeSwitcher, CodeSwitcher]:
    """Query and document switchers of the recipe ``--languages`` / ``--p`` over the MUSE en->XX
    dictionaries (ML-CS with several languages). Both draw with ``--seed``; the collators draw a
    row's document at an offset example index, so its query and document switch independently."""
    recipe = SwitchingRecipe(languages=[lang for lang in args.languages.split(",") if lang], p=args.p)
    switchers = recipe.switchers(tokenizer, recipe.load_lexicons(data_dir(args.data_dir)), seed=args.seed)
    return switchers["query"], switchers["document"]


def sentence_transformer_setup(args: argparse.Namespace):
    """The model as a SentenceTransformer (prompts ``query: `` / ``passage: `` from its xcs
    checkpoint), the anchor / positive dataset, and the query and document switchers."""
    import datasets
    from sentence_transformers import SentenceTransformer

    from xcs.models.checkpoints import resolve_model_path

    model = SentenceTransformer(str(resolve_model_path(args.model)), device="cpu")
    dataset = datasets.Dataset.from_list(anchor_positive_rows(args))
    return model, dataset, muse_switchers(model.tokenizer, args)
