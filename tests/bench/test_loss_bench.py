"""``xcs bench loss`` runs end to end on CPU at a tiny size and writes its JSON (device, versions, ratios)."""

from __future__ import annotations

import json

from xcs.cli import main


def test_bench_loss_cpu_writes_json(tmp_path, capsys):
    out = tmp_path / "loss_cpu.json"
    assert (
        main(["bench", "loss", "--sizes", "64", "--repeats", "1", "--threads", "1", "--out", str(out)]) == 0
    )
    payload = json.loads(out.read_text())
    assert payload == json.loads(capsys.readouterr().out)
    env = payload["environment"]
    assert env["device"] == "cpu" and env["torch"] and "triton" in env and env["device_name"]
    rows = {row["impl"]: row for row in payload["results"]}
    assert set(rows) == {"eager", "chunked"}
    assert rows["eager"]["loss"] == rows["chunked"]["loss"]  # same inputs, same loss (6 decimals)
    assert all(row["seconds"] > 0 and row["B"] == 64 for row in rows.values())
    (ratio,) = payload["ratios"]
    assert ratio["fused"] == "chunked" and ratio["baseline"] == "eager" and ratio["seconds_ratio"] > 0
