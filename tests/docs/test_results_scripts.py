"""The scripts under results/ that print evidence from the committed runs still run on them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_claims_script_prints_every_claims_evidence():
    script = ROOT / "results" / "claims.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    for claim in ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)"):
        assert claim in out
    assert "code-switched - English-only" in out and "Spearman" in out and "seed-level p" in out
