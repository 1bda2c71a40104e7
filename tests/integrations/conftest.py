"""A tiny random BERT on the real tokenizer, code-switchers and a dataset, for the integration tests."""

from __future__ import annotations

import pytest
from train_helpers import make_pairs, save_tiny_model

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.switcher import CodeSwitcher

WORDS = {"what": "was", "about": "über", "the": "die", "number": "nummer", "is": "ist", "river": "Fluss",
         "castle": "Burg", "music": "Musik", "described": "beschrieben", "here": "hier", "tree": "Baum"}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, e5_tokenizer):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-bert"), e5_tokenizer, dropout=0.0)


@pytest.fixture(scope="session")
def german(e5_tokenizer):
    return Lexicon.from_pairs(list(WORDS.items()), "en", "de")


@pytest.fixture
def switchers(e5_tokenizer, german):
    return (CodeSwitcher(e5_tokenizer, {"de": german}, p=0.5, seed=0),
            CodeSwitcher(e5_tokenizer, {"de": german}, p=0.5, seed=1))


@pytest.fixture(scope="session")
def pair_rows():
    return [{"query": p.query, "document": p.positive} for p in make_pairs(16)]
