"""The benchmarks' one timer and the message for a missing comparison library."""

from __future__ import annotations

import pytest

from xcs.bench.timing import best_seconds, require


def test_best_seconds_warms_up_then_repeats():
    calls = []
    wall, cpu = best_seconds(lambda: calls.append(1), min_repeats=4)
    assert len(calls) == 5  # one warm-up, four timed
    assert 0.0 <= wall < 1.0 and 0.0 <= cpu < 1.0


def test_a_missing_library_names_the_extra():
    assert [m.__name__ for m in require("metrics", "json")] == ["json"]
    message = r"xcs bench metrics compares against no_such_library_xyz.*xcs\[bench\]"
    with pytest.raises(ImportError, match=message):
        require("metrics", "json", "no_such_library_xyz")
