"""``benches/gpu/report.py``, which prints the GPU run's summary last: it reads what the run wrote
(phases, JUnit XML, benchmark JSONs) and must not fail on a partial run, an OOM or an error row."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parents[2] / "benches" / "gpu" / "report.py"


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("gpu_report", REPORT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(impl, size, ms, dim=768, dtype="bfloat16", **extra):
    return {"impl": impl, "B": size, "N": size, "dim": dim, "dtype": dtype, "ms": ms, **extra}


def _write_run(out: Path) -> Path:
    rows = [
        _row("matmul_floor", 65536, 10.0, tflops=600.0, peak_extra_mb=100.0),
        _row("triton", 65536, 14.0, tflops=430.0, peak_extra_mb=200.0, value_reference="triton", loss=9.1),
        _row("triton_gemm", 65536, 12.0, peak_extra_mb=600.0, values_ok=True, value_reference="triton"),
        _row("eager", 65536, 30.0, peak_extra_mb=20000.0, values_ok=True, value_reference="triton"),
        _row("compiled", 65536, "oom", peak_extra_mb="oom"),
        _row("triton", 1048576, 9000.0, peak_extra_mb=3000.0),
        {**_row("triton_gemm", 1048576, None), "error": "RuntimeError: boom"},
    ]
    (out / "loss_cuda_bf16.json").write_text(json.dumps({"results": rows}))
    (out / "environment.json").write_text(json.dumps({"gpu": "NVIDIA H200", "cuda_available": True,
                                                      "torch": "2.11.0", "triton": "3.6.0"}))
    (out / "tests.xml").write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1">'
        '<testcase name="a"/><testcase name="b"><failure/></testcase><testcase name="c"><skipped/></testcase>'
        "</testsuite></testsuites>"
    )
    phases = out / "phases.tsv"
    phases.write_text("setup\t0\t50\t\ntests\t1\t120\t\nbench_bf16\t124\t300\t(timed out at 300s)\n"
                      "quick\tskipped\t0\t(budget spent)\n")
    return phases


def test_summary_reports_phases_tests_bench_and_goals(report, tmp_path):
    phases = _write_run(tmp_path)
    text = report.summary(phases, tmp_path)
    assert "| bench_bf16 | 124 | 300 | (timed out at 300s) |" in text
    assert "Tests: 1 passed, 1 failed, 1 skipped" in text and "- failed: b" in text
    assert "FAIL: 1 test(s) skipped on a CUDA machine" in text
    assert "triton at 64k x 64k, d = 768: 1.40x the cuBLAS floor" in text
    assert "triton_gemm at 64k x 64k, d = 768: 1.20x the cuBLAS floor" in text
    assert "triton peak memory at 64k, d = 768: 1.00% of eager's" in text
    assert "slower at: none" in text
    assert "triton at 1M x 1M, d = 768: 9e+03 ms" in text and "RuntimeError: boom" in text
    line = next(x for x in text.splitlines() if x.startswith("| bfloat16 | 768 | 65536 "))
    assert "| oom |" in line and line.rstrip().endswith("| ok |")


def test_summary_of_a_run_that_wrote_nothing(report, tmp_path):
    phases = tmp_path / "phases.tsv"
    phases.write_text("setup\t2\t3\t\n")
    text = report.summary(phases, tmp_path)
    assert "| setup | 2 | 3 |  |" in text and "Loss benchmark" not in text


def test_plot_writes_a_png(report, tmp_path):
    _write_run(tmp_path)
    out = tmp_path / "loss.png"
    report.plot([tmp_path / "loss_cuda_bf16.json"], out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
