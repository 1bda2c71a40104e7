"""Every recipe in examples/ runs end to end for 2 steps on the real default model and data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "common.py")


def test_every_recipe_is_listed_in_the_docs():
    recipes = (EXAMPLES.parent / "docs" / "recipes.md").read_text()
    assert SCRIPTS and all(f"examples/{name}" in recipes for name in SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_recipe_runs_two_steps(script, data_dir, tmp_path):
    command = [sys.executable, str(EXAMPLES / script), "--steps", "2", "--batch-size", "4",
               "--max-pairs", "32", "--languages", "de", "--data-dir", str(data_dir),
               "--out", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
