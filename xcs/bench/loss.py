"""``xcs bench loss``: forward + backward of the contrastive loss, fused vs materialising, time and memory.

- ``--device cpu`` (default): ``eager`` (materialises the B x N logits) vs ``chunked`` at B = N in
  ``--sizes`` (default 1024 4096 16384), dim 384, float32. Each measurement runs in a fresh child
  process; peak extra memory is the growth of its peak resident set (``ru_maxrss``) over the
  resident set after the inputs were allocated, so it counts the loss's own working memory plus the
  input gradients.
- ``--device cuda``: ``triton`` (atomic backward) and ``triton_gemm`` (cuBLAS backward) vs ``eager``
  vs ``compiled`` (``torch.compile`` of eager) at B = N in
  {4k, 16k, 64k, 256k}, dim in {384, 768}, bfloat16, plus the cuBLAS ``matmul_floor`` (Q @ D.T and
  the two backward GEMMs W @ D and W.T @ Q at the same sizes, in row blocks of 8192 so that 256k
  fits). Peak extra memory is ``torch.cuda.max_memory_allocated`` over the allocation after the
  inputs. A configuration that runs out of memory is recorded as ``"oom"``.

Results (with device name, versions and the command line) are printed and saved as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from xcs.bench.isolated import peak_rss_mb, run_isolated
from xcs.io.atomic import write_json_atomic

CPU_SIZES = [1024, 4096, 16384]
GPU_SIZES = [4096, 16384, 65536, 262144]
FLOOR_ROW_BLOCK = 8192


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "loss", help="contrastive loss fwd+bwd: fused vs eager, time and peak memory"
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="B = N values")
    parser.add_argument("--dims", type=int, nargs="+", default=None, help="embedding sizes")
    parser.add_argument("--impls", nargs="+", default=None, help="subset of implementations to run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (CPU: min, GPU: median)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON output (default results/loss_<device>.json)"
    )
    parser.set_defaults(func=run)


def _inputs(size: int, dim: int, dtype, device: str):
    import torch

    gen = torch.Generator(device=device).manual_seed(0)
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
    q, d = _inputs(size, dim, torch.float32, "cpu")
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
    return F.cross_entropy((q @ d.T) * 20.0, labels)


def _gpu_loss_fn(impl: str):
    import torch

    from xcs.loss.api import contrastive_loss

    if impl == "compiled":
        return torch.compile(_plain_infonce)
    return lambda q, d: contrastive_loss(q, d, temperature=0.05, impl=impl)


def _gpu_time(step, repeats: int) -> float:
    """Median milliseconds of ``step()`` over ``repeats`` runs after two warm-up runs (CUDA events)."""
    import torch

    for _ in range(2):
        step()
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    return sorted(times)[len(times) // 2]


def _gpu_case(impl: str, size: int, dim: int, repeats: int) -> dict:
    import torch

    result = {"impl": impl, "B": size, "N": size, "dim": dim, "dtype": "bfloat16"}
    torch.cuda.empty_cache()
    try:
        q, d = _inputs(size, dim, torch.bfloat16, "cuda")
        torch.cuda.synchronize()
        baseline = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        if impl == "matmul_floor":
            step = _matmul_floor_step(q.detach(), d.detach())
        else:
            loss_fn = _gpu_loss_fn(impl)

            def step():
                q.grad = d.grad = None
                loss_fn(q, d).backward()

        result["ms"] = round(_gpu_time(step, repeats), 3)
        result["peak_extra_mb"] = round((torch.cuda.max_memory_allocated() - baseline) / 2**20, 1)
    except torch.cuda.OutOfMemoryError:
        result["ms"] = result["peak_extra_mb"] = "oom"
    except Exception as exc:  # e.g. torch.compile without a toolchain: keep the rest of the sweep
        result["error"] = f"{type(exc).__name__}: {str(exc)[:500]}"
    finally:
        q = d = None
        torch.cuda.empty_cache()
    return result


def _matmul_floor_step(q, d):
    """The three GEMMs of a fused fwd+bwd in cuBLAS: S = Q D^T, W D and W^T Q (row blocks of 8192)."""
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


def _ratios(results: list[dict], fused: str, metric: str) -> list[dict]:
    """Per (B, dim): the fused implementation's time and peak memory over every other one's."""
    by_case: dict[tuple, dict[str, dict]] = {}
    for row in results:
        by_case.setdefault((row.get("B"), row.get("dim")), {})[row.get("impl")] = row
    ratios = []
    for (size, dim), rows in by_case.items():
        mine = rows.get(fused, {})
        for impl, other in rows.items():
            if impl == fused:
                continue
            entry = {"B": size, "dim": dim, "fused": fused, "baseline": impl}
            for key in (metric, "peak_extra_mb"):
                a, b = mine.get(key), other.get(key)
                numeric = isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0
                entry[f"{key}_ratio"] = round(a / b, 3) if numeric else None
            ratios.append(entry)
    return ratios


def _environment(device: str) -> dict:
    import torch

    env = {
        "device": device, "torch": torch.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "command": " ".join(["xcs", *sys.argv[1:]]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }  # fmt: skip
    try:
        import triton

        env["triton"] = triton.__version__
    except ImportError:
        env["triton"] = None
    if device == "cuda":
        env["device_name"] = torch.cuda.get_device_name()
        env["cuda"] = torch.version.cuda
    else:
        env["device_name"] = env["cpu"]
    return env




def run(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {args.repeats}")
    results = []
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
        impls = args.impls or ["triton", "triton_gemm", "eager", "compiled", "matmul_floor"]
        for dim in args.dims or [384, 768]:
            for size in args.sizes or GPU_SIZES:
                for impl in impls:
                    results.append(_gpu_case(impl, size, dim, args.repeats))
                    print(json.dumps(results[-1]), file=sys.stderr)
    fused, metric = ("chunked", "seconds") if args.device == "cpu" else ("triton", "ms")
    payload = {
        "benchmark": "loss",
        "environment": _environment(args.device),
        "results": results,
        "ratios": _ratios(results, fused, metric),
    }
    out = args.out or Path("results") / f"loss_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(payload, out)
    print(json.dumps(payload, indent=2))
    return 0
