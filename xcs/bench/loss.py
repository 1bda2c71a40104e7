"""``xcs bench loss``: forward + backward of the contrastive loss, fused vs materialising, time and memory.

- ``--device cpu`` (default): ``eager`` (materialises the B x N logits) vs ``chunked`` at B = N in
  ``--sizes`` (default 1024 4096 16384), dim 384, float32. Each measurement runs in a fresh child
  process; peak extra memory is the growth of its peak resident set (``ru_maxrss``) over the
  resident set after the inputs were allocated, so it counts the loss's own working memory plus the
  input gradients.
- ``--device cuda``: for each of ``--dtypes`` (default bf16) and ``--dims`` (default 768 384), at
  B = N in ``--sizes`` (default 8k, 32k, 64k, 256k, 1M): the cuBLAS ``matmul_floor`` (the three
  GEMMs of a fused fwd+bwd, S = Q D^T, W D and W^T Q, in row blocks of 8192 so that 1M fits), then
  ``triton`` (atomic backward), ``triton_gemm`` (cuBLAS backward), ``eager`` (materialises S) and
  ``compiled`` (``torch.compile(dynamic=True)`` of a plain InfoNCE: one compilation for every
  size). Each row has the median forward+backward milliseconds (CUDA events), TFLOP/s of the
  3-GEMM work 6 B N d, the ratio to the floor measured in the same run, peak extra memory
  (``torch.cuda.max_memory_allocated`` over the allocation after the inputs), and a value check:
  the loss and gradients against the first implementation that ran at that size (relative norm of
  the difference, with a pass/fail at the dtype's tolerance). Out-of-memory is recorded as
  ``"oom"``, any other failure as ``"error"``; the sweep goes on. The JSON is rewritten
  (atomically) after every case, so a time-out keeps every finished case.

Results (with device name, versions and the command line) are printed and saved as JSON.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

from xcs.bench.isolated import peak_rss_mb, run_isolated
from xcs.io.atomic import write_json_atomic

CPU_SIZES = [1024, 4096, 16384]
GPU_SIZES = [8192, 32768, 65536, 262144, 1048576]
GPU_DIMS = [768, 384]
FLOOR_ROW_BLOCK = 8192
DTYPE_NAMES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
GPU_LOSS_IMPLS = ["triton", "triton_gemm", "eager", "compiled"]
GPU_IMPLS = ["matmul_floor", *GPU_LOSS_IMPLS]
# relative norm of the difference to the reference implementation that still counts as the same
# values: 16-bit eager rounds every logit to the input dtype (an error of ~|S| * 2**-8 in bf16), the
# fused paths keep them in fp32, so 16-bit implementations legitimately differ by a few percent
VALUE_TOLERANCE = {"bfloat16": 5e-2, "float16": 1e-2, "float32": 1e-3}
TEMPERATURE = 0.05


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "loss", help="contrastive loss fwd+bwd: fused vs eager, time and peak memory"
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="B = N values")
    parser.add_argument("--dims", type=int, nargs="+", default=None, help="embedding sizes")
    parser.add_argument("--impls", nargs="+", default=None, help="subset of implementations to run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs (CPU: min, GPU: median, at most this many)")
    parser.add_argument("--dtypes", nargs="+", choices=list(DTYPE_NAMES), default=["bf16"],
                        help="GPU input dtypes, one sweep each (default bf16)")
    parser.add_argument("--budget-s", type=float, default=3.0,
                        help="GPU: stop repeating a case once its timed runs took this long (>= 1 run)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON output (default results/loss_<device>.json)"
    )
    parser.set_defaults(func=run)


def loss_inputs(size: int, dim: int, dtype, device: str, seed: int = 0):
    """Normalised random q and d (size, dim) in ``dtype`` on ``device``, requiring gradients."""
    import torch

    gen = torch.Generator(device=device).manual_seed(seed)
    q = torch.nn.functional.normalize(torch.randn(size, dim, generator=gen, device=device), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(size, dim, generator=gen, device=device), dim=-1)
    return q.to(dtype).requires_grad_(), d.to(dtype).requires_grad_()


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_case(impl: str, size: int, dim: int, repeats: int, threads: int | None) -> dict:
    """Time and peak RSS growth of fwd+bwd in this (fresh) process."""
    import torch

    from xcs.loss.api import contrastive_loss

    if threads:
        torch.set_num_threads(threads)
    q, d = loss_inputs(size, dim, torch.float32, "cpu")
    baseline = _current_rss_mb()
    seconds = []
    for _ in range(repeats):
        q.grad = d.grad = None
        started = time.perf_counter()
        loss = contrastive_loss(q, d, temperature=0.05, impl=impl)
        loss.backward()
        seconds.append(time.perf_counter() - started)
    peak = peak_rss_mb()
    return {
        "impl": impl, "B": size, "N": size, "dim": dim, "dtype": "float32",
        "seconds": round(min(seconds), 4), "peak_extra_mb": round(peak - baseline, 1),
        "loss": round(float(loss.detach()), 6), "torch_threads": torch.get_num_threads(),
    }  # fmt: skip



def _plain_infonce(q, d):
    """Eager InfoNCE without option handling or input checks (graph-break free for torch.compile)."""
    import torch
    import torch.nn.functional as F

    labels = torch.arange(q.shape[0], device=q.device)
    return F.cross_entropy((q @ d.T) * (1.0 / TEMPERATURE), labels)


@functools.cache
def _compiled_infonce():
    """One ``torch.compile(dynamic=True)`` of the plain InfoNCE per process, so that the sweep's
    sizes do not recompile it."""
    import torch

    return torch.compile(_plain_infonce, dynamic=True)


def _loss_fn(impl: str):
    """``(q, d) -> scalar loss`` of ``impl``."""
    from xcs.loss.api import contrastive_loss

    if impl == "compiled":
        return _compiled_infonce()
    return lambda q, d: contrastive_loss(q, d, temperature=TEMPERATURE, impl=impl)


class _Clock:
    """Milliseconds of one call: CUDA events on a GPU, the host clock elsewhere (interpreter tests)."""

    def __init__(self, device: str) -> None:
        self.cuda = device == "cuda"

    def time_ms(self, step) -> float:
        import torch

        if not self.cuda:
            started = time.perf_counter()
            step()
            return (time.perf_counter() - started) * 1e3
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        stop.record()
        torch.cuda.synchronize()
        return start.elapsed_time(stop)


def _timed_runs(clock: _Clock, step, repeats: int, budget_s: float, warmup: bool) -> tuple[float, int, int]:
    """Median ms over up to ``repeats`` runs, stopping once ``budget_s`` of timed runs is spent (at
    least one run); one untimed warm-up first when ``warmup``. Returns (median, runs, warm-ups)."""
    if warmup:
        step()
    times: list[float] = []
    while len(times) < repeats and (not times or sum(times) < budget_s * 1e3):
        times.append(clock.time_ms(step))
    return sorted(times)[len(times) // 2], len(times), int(warmup)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _relative_error(value, reference) -> float:
    import torch

    value, reference = value.detach().double(), reference.detach().double()
    norm = torch.linalg.vector_norm
    return float(norm(value - reference) / norm(reference).clamp_min(1e-30))


def _free_device_memory(device: str) -> None:
    import gc

    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


class LossSweep:
    """One ``(dtype, dim)`` sweep over sizes and implementations, on ``device``.

    Inputs are fresh normalised random rows per size; the first loss implementation that runs at a
    size is the reference of the value check for the others at that size. ``on_case(row)`` is called
    after every case (the command rewrites its JSON there).
    """

    def __init__(self, device: str, dtype: str, dim: int, impls: list[str], repeats: int, budget_s: float,
                 on_case=None) -> None:
        self.device, self.dtype, self.dim, self.impls = device, dtype, dim, impls
        self.repeats, self.budget_s, self.on_case = repeats, budget_s, on_case
        self.clock = _Clock(device)
        self.last_ms: dict[str, float] = {}  # per impl: the previous size's time (warm-up needed?)

    def run(self, sizes: list[int]) -> list[dict]:
        rows = []
        for size in sizes:
            reference: dict = {}
            for impl in self.impls:
                row = self._case(impl, size, reference)
                rows.append(row)
                if self.on_case is not None:
                    self.on_case(row)
            reference.clear()
            _free_device_memory(self.device)
        return rows

    def _case(self, impl: str, size: int, reference: dict) -> dict:
        import torch

        dtype = getattr(torch, DTYPE_NAMES[self.dtype])
        row = {"impl": impl, "B": size, "N": size, "dim": self.dim, "dtype": DTYPE_NAMES[self.dtype],
               "device": self.device}
        q = d = None
        try:
            _free_device_memory(self.device)
            q, d = loss_inputs(size, self.dim, dtype, self.device, seed=size + self.dim)
            if self.device == "cuda":
                torch.cuda.synchronize()
                baseline = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            if impl == "matmul_floor":
                step = _matmul_floor_step(q.detach(), d.detach())
            else:
                loss_fn, holder = _loss_fn(impl), {}

                def step():
                    q.grad = d.grad = None
                    loss = loss_fn(q, d)
                    loss.backward()
                    holder["loss"] = loss

            # a kernel's first call compiles it; later sizes reuse the compiled kernel, so the
            # warm-up is skipped once a previous size took long enough to make it costly
            warmup = self.last_ms.get(impl, 0.0) < 1000.0
            ms, runs, warmups = _timed_runs(self.clock, step, self.repeats, self.budget_s, warmup)
            self.last_ms[impl] = ms
            work = 6.0 * size * size * self.dim  # the three GEMMs of fwd + bwd
            row.update({"ms": round(ms, 4), "tflops": float(f"{work / (ms * 1e-3) / 1e12:.4g}"),
                        "timed_runs": runs, "warmup_runs": warmups})
            if self.device == "cuda":
                row["peak_extra_mb"] = round((torch.cuda.max_memory_allocated() - baseline) / 2**20, 1)
            if impl != "matmul_floor":
                row.update(self._value_check(impl, holder["loss"], q, d, reference))
        except torch.cuda.OutOfMemoryError:
            row["ms"] = row["peak_extra_mb"] = "oom"
        except Exception as exc:  # a compiler or kernel failure: record it, keep the sweep going
            row["error"] = f"{type(exc).__name__}: {str(exc)[:800]}"
        finally:
            q = d = None
        return row

    def _value_check(self, impl: str, loss, q, d, reference: dict) -> dict:
        """The loss and, against the size's reference implementation, the relative errors; a NaN or
        infinite value (a broken kernel) is recorded as null with ``values_ok`` false, since the JSON
        written after every case holds no NaN."""
        values = {"loss": loss.detach().float(), "grad_q": q.grad, "grad_d": d.grad}
        out = {"loss": _finite_or_none(float(values["loss"]))}
        if not reference:
            reference.update(values, impl=impl)
            out["value_reference"] = impl
            return out
        errors = {f"{name}_rel_err": _relative_error(values[name], reference[name]) for name in values}
        tolerance = VALUE_TOLERANCE[DTYPE_NAMES[self.dtype]]
        out.update({"value_reference": reference["impl"],
                    **{k: _finite_or_none(float(f"{v:.3g}")) for k, v in errors.items()},
                    "values_ok": out["loss"] is not None and all(v <= tolerance for v in errors.values())})
        return out


def _matmul_floor_step(q, d):
    """The three GEMMs of a fused fwd+bwd in cuBLAS: S = Q D^T, W D and W^T Q (row blocks of 8192);
    16-bit products accumulate in fp32 as the kernels' do."""
    import torch

    grad_q = torch.empty_like(q)
    grad_d = torch.zeros_like(d)

    def step():
        for start in range(0, q.shape[0], FLOOR_ROW_BLOCK):
            rows = q[start : start + FLOOR_ROW_BLOCK]
            logits = rows @ d.T
            torch.mm(logits, d, out=grad_q[start : start + FLOOR_ROW_BLOCK])
            grad_d.addmm_(logits.T, rows)

    return step


def speed_ratios(results: list[dict], fused_impls: tuple[str, ...], metric: str) -> list[dict]:
    """Per (dtype, B, dim): each fused implementation's time and peak memory over every other one's
    (over ``matmul_floor``: the ratio to the cuBLAS floor)."""
    by_case: dict[tuple, dict[str, dict]] = {}
    for row in results:
        by_case.setdefault((row.get("dtype"), row.get("B"), row.get("dim")), {})[row.get("impl")] = row
    ratios = []
    for (dtype, size, dim), rows in by_case.items():
        for fused in fused_impls:
            mine = rows.get(fused)
            if mine is None:
                continue
            for impl, other in rows.items():
                if impl == fused:
                    continue
                entry = {"dtype": dtype, "B": size, "dim": dim, "fused": fused, "baseline": impl}
                for key in (metric, "peak_extra_mb"):
                    a, b = mine.get(key), other.get(key)
                    numeric = isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0
                    entry[f"{key}_ratio"] = round(a / b, 3) if numeric else None
                ratios.append(entry)
    return ratios


def _environment(device: str) -> dict:
    import torch

    from xcs.io.versions import versions

    env = {
        "device": device, "python": platform.python_version(),
        "platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "command": " ".join(["xcs", *sys.argv[1:]]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **versions(),
    }  # fmt: skip
    if device == "cuda":
        env["device_name"] = torch.cuda.get_device_name()
        env["cuda"] = torch.version.cuda
        env["device_capability"] = ".".join(map(str, torch.cuda.get_device_capability()))
        env["device_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    else:
        env["device_name"] = env["cpu"]
    return env


def run_gpu_sweeps(device: str, dtypes: list[str], dims: list[int], sizes: list[int], impls: list[str],
                   repeats: int, budget_s: float, on_case=None) -> list[dict]:
    """Every (dtype, dim) sweep of the GPU benchmark; ``device="cpu"`` runs the same loop on CPU
    tensors (the kernels then need ``TRITON_INTERPRET=1``): that is how the tests exercise it."""
    unknown = sorted(set(impls) - set(GPU_IMPLS))
    if unknown:
        raise ValueError(f"--impls: unknown implementation(s) {unknown}; choose from {GPU_IMPLS}")
    results: list[dict] = []
    for dtype in dtypes:
        for dim in dims:
            sweep = LossSweep(device, dtype, dim, impls, repeats, budget_s, on_case)
            results.extend(sweep.run(sizes))
    return results


def run(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {args.repeats}")
    out = args.out or Path("results") / f"loss_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    environment = _environment(args.device)
    results: list[dict] = []
    fused, metric = (("chunked",), "seconds") if args.device == "cpu" else (("triton", "triton_gemm"), "ms")

    def payload() -> dict:
        return {"benchmark": "loss", "environment": environment, "results": results,
                "ratios": speed_ratios(results, fused, metric)}

    if args.device == "cpu":
        impls = args.impls or ["eager", "chunked"]
        for size in args.sizes or CPU_SIZES:
            for dim in args.dims or [384]:
                for impl in impls:
                    results.append(run_isolated(_cpu_case, impl, size, dim, args.repeats, args.threads))
                    print(json.dumps(results[-1]), file=sys.stderr)
    else:
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda needs a CUDA GPU")

        def on_case(row: dict) -> None:
            results.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            write_json_atomic(payload(), out)  # a time-out keeps every finished case

        run_gpu_sweeps("cuda", args.dtypes, args.dims or GPU_DIMS, args.sizes or GPU_SIZES,
                       args.impls or GPU_IMPLS, args.repeats, args.budget_s, on_case)
    write_json_atomic(payload(), out)
    print(json.dumps(payload(), indent=2))
    return 0
