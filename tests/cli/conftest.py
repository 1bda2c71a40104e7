"""What the command-line tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def eval_argv(tmp_path: Path) -> list[str]:
    """``xcs eval`` arguments that pass every check made before ``--out``: a model path (never
    loaded) and a valid XQuAD-R directory (xcs eval checks its options and data first); add
    ``--out``."""
    xquadr = tmp_path / "xquad-r"
    xquadr.mkdir()
    (xquadr / "en.json").write_text("{}")
    return ["eval", "--model", str(tmp_path / "no-model"), "--tasks", "lareqa", "--xquadr-dir", str(xquadr)]
