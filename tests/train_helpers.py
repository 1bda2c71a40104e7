"""Shared by the training and experiment tests: a tiny random BERT on the real tokenizer, synthetic
pairs, and a runner that trains it with the zero-shot batch builder."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from xcs.data.pairs import TrainPair
from xcs.training.collated import recipe_batch_builder
from xcs.training.config import TrainConfig
from xcs.training.loop import train

TOPICS = ["river", "castle", "music", "planet", "football", "bread", "engine", "winter", "poem", "tree"]


def make_pairs(n: int = 48) -> list[TrainPair]:
    pairs = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        sentences = (f"The {topic} number {i} is described here.", f"Another fact about item {i}.",
                     f"Unrelated filler sentence {i}.")
        pairs.append(TrainPair(f"What about the {topic} {i}?", sentences[0], sentences))
    return pairs


def save_tiny_model(path: Path, tokenizer, dropout: float) -> Path:
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=160, type_vocab_size=1,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


_TEMPLATES: dict[Path, object] = {}


def fresh_encoder(model_dir: Path):
    """A new ``Encoder`` on freshly loaded weights; the (slow to parse) tokenizer is loaded once."""
    from transformers import AutoModel

    from xcs.models.encoder import Encoder

    if model_dir not in _TEMPLATES:
        _TEMPLATES[model_dir] = Encoder(model_dir, max_length=64)
    encoder = copy.copy(_TEMPLATES[model_dir])
    encoder.model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    return encoder


def run(model_dir: Path, out: Path, config: TrainConfig, **kwargs):
    encoder = fresh_encoder(model_dir)
    builder = recipe_batch_builder(encoder.tokenizer, None, total_steps=config.steps, max_query_length=32,
                                   max_document_length=48, align=config.needs_originals)
    kwargs.setdefault("save_model", False)
    result = train(encoder, make_pairs(), builder, config, out, progress=False, **kwargs)
    return encoder, result
