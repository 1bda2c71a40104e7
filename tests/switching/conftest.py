"""The switching tests keep compiled lexicons in a temporary cache, never in the user's home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _lexicon_cache(tmp_path_factory, monkeypatch):
    """``CompiledLexicon.compile``'s default cache directory -> one temporary directory per session."""
    directory = tmp_path_factory.getbasetemp() / "lexicon-cache"
    monkeypatch.setattr("xcs.switching.compile_cache.default_directory", lambda: directory)
