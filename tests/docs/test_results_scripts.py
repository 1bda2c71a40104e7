"""The scripts under results/ that print evidence from the committed runs still run on them, and the
committed evidence is what they print now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def claims_output() -> str:
    script = ROOT / "results" / "claims.py"
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout


def test_claims_script_prints_every_claims_evidence(claims_output):
    for claim in ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)"):
        assert claim in claims_output
    assert "code-switched - English-only" in claims_output and "Spearman" in claims_output
    assert "seed-level p" in claims_output
    assert "## The learning curve" in claims_output and "| 40 | ml-cs - en |" in claims_output


def test_curve_growth_is_the_difference_of_the_points_gains(claims_output):
    # the growth table's value is the later point's gain minus the first point's, both as printed in
    # the curve table (means over the seeds of each point), to rounding
    curve = claims_output.split("## The learning curve")[1]
    table, growth = curve.split("Growth of the switching gain")
    gains = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 2 and cells[0].isdigit():
            gains[cells[0], cells[1]] = [float(c.split()[0]) for c in cells[2:]]
    rows = [line for line in growth.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows, "no point beyond the first has two seeds"
    first = min((steps for steps, _ in gains), key=int)
    for line in rows:
        steps, comparison, *cells = [c.strip() for c in line.strip("|").split("|")]
        for value, late, early in zip(cells, gains[steps, comparison], gains[first, comparison], strict=True):
            assert abs(float(value.split()[0]) - (late - early)) <= 0.011


def test_committed_evidence_is_current(claims_output):
    # results/claims.md quotes results/claims-evidence.md: a run committed without regenerating it
    # (python results/claims.py > results/claims-evidence.md) would leave the claims behind the runs
    committed = (ROOT / "results" / "claims-evidence.md").read_text(encoding="utf-8")
    assert committed == claims_output, "regenerate: python results/claims.py > results/claims-evidence.md"
