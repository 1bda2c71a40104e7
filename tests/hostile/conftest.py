"""The hostile suite (issue 21): hostile arguments to the public API and the command line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def evaluation_helpers():
    """tests/evaluation/test_evaluation.py's tiny XQuAD-R / Tatoeba writer and fake encoder."""
    path = Path(__file__).resolve().parents[1] / "evaluation" / "test_evaluation.py"
    spec = importlib.util.spec_from_file_location("hostile_evaluation_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
