"""xcs.io.atomic: the target is replaced only by a complete write, and no temporary file is left."""

import json
import os
import re

import pytest

from xcs.io.atomic import atomic_path, write_json_atomic, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.md"
    write_text_atomic("old\n", target)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.md"]


def test_the_temporary_keeps_the_suffix_and_a_json_round_trip(tmp_path):
    with atomic_path(tmp_path / "scores.npz") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npz"  # numpy / matplotlib pick formats by it
        tmp.write_bytes(b"x")
    write_json_atomic({"path": tmp_path, "n": 1}, tmp_path / "run.json")
    assert json.loads((tmp_path / "run.json").read_text()) == {"path": str(tmp_path), "n": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "scores.npz"]


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    """A SIGKILLed writer leaves .NAME.tmpPID.SUFFIX behind; it is removed, a live writer's is kept."""
    import subprocess
    import sys

    from xcs.io.atomic import remove_stale_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    target = tmp_path / "checkpoint.pt"
    stale = tmp_path / f".checkpoint.pt.tmp{dead_pid}.pt"
    live = tmp_path / f".checkpoint.pt.tmp{os.getppid()}.pt"
    other = tmp_path / f".other.pt.tmp{dead_pid}.pt"
    for path in (stale, live, other):
        path.write_bytes(b"x" * 10)
    assert remove_stale_temporaries(target) == [stale]
    assert not stale.exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(tmp_path / "missing" / "checkpoint.pt") == []


@pytest.mark.parametrize(("value", "key"), [
    ({"losses": [0.1, float("nan")]}, "losses[1]"),
    ({"clir": {"mrr@10": float("inf")}}, "clir.mrr@10"),
    ({"p": [{"q": -float("inf")}]}, "p[0].q"),
])
def test_json_is_always_valid_json_and_a_nan_names_file_and_key(tmp_path, value, key):
    """Issue 21.3: json.dumps writes NaN / Infinity, which no JSON parser reads."""
    target = tmp_path / "log.json"
    with pytest.raises(ValueError, match=rf"log.json: not written: {re.escape(key)} is not a finite number"):
        write_json_atomic(value, target)
    assert not target.exists() and not list(tmp_path.iterdir())
    write_json_atomic({"losses": [0.1, None]}, target)  # undefined: null
    assert json.loads(target.read_text()) == {"losses": [0.1, None]}
