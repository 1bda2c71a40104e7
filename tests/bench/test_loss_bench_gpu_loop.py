"""The GPU benchmark's loop (``xcs bench loss --device cuda``) at tiny sizes on CPU tensors, the
Triton kernels under ``TRITON_INTERPRET=1``: every implementation runs, is timed, is value-checked
against the first one, and the ratios to the floor come out; a failing case is recorded, not fatal."""

from __future__ import annotations

import os

import pytest

from xcs.bench.loss import GPU_IMPLS, run_gpu_sweeps, speed_ratios

pytestmark = pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1",
                                reason="the Triton kernels run on CPU tensors only under TRITON_INTERPRET=1")


def test_gpu_loop_runs_every_implementation_on_cpu():
    seen = []
    impls = [impl for impl in GPU_IMPLS if impl != "compiled"]  # torch.compile: minutes of C++ on CPU
    rows = run_gpu_sweeps("cpu", ["fp32", "bf16"], [24], [40, 70], impls, repeats=2, budget_s=0.5,
                          on_case=seen.append)
    assert rows == seen and len(rows) == 2 * 2 * len(impls)
    for row in rows:
        assert "error" not in row, row
        assert row["ms"] > 0 and row["tflops"] > 0 and 1 <= row["timed_runs"] <= 2, row
        if row["impl"] == "triton":
            assert row["value_reference"] == "triton" and "values_ok" not in row
        elif row["impl"] != "matmul_floor":
            assert row["value_reference"] == "triton" and row["values_ok"], row
            assert row["grad_q_rel_err"] < (1e-3 if row["dtype"] == "float32" else 5e-2), row
    ratios = speed_ratios(rows, ("triton", "triton_gemm"), "ms")
    floor = [r for r in ratios if r["baseline"] == "matmul_floor"]
    assert len(floor) == 2 * 2 * 2 and all(r["ms_ratio"] > 0 for r in floor)


def test_a_failing_case_is_recorded_and_the_sweep_goes_on(monkeypatch):
    import xcs.bench.loss as bench

    def broken(impl):
        if impl == "triton_gemm":
            raise RuntimeError("simulated compiler failure")
        return original(impl)

    original = bench._loss_fn
    monkeypatch.setattr(bench, "_loss_fn", broken)
    rows = run_gpu_sweeps("cpu", ["fp32"], [16], [33], ["triton", "triton_gemm", "eager"], repeats=1,
                          budget_s=0.1)
    by_impl = {row["impl"]: row for row in rows}
    assert "simulated compiler failure" in by_impl["triton_gemm"]["error"]
    assert by_impl["eager"]["values_ok"] and by_impl["triton"]["ms"] > 0


def test_unknown_implementation_is_refused():
    with pytest.raises(ValueError, match="--impls: unknown implementation"):
        run_gpu_sweeps("cpu", ["fp32"], [16], [8], ["tritonn"], repeats=1, budget_s=0.1)
