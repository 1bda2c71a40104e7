"""The Triton kernels compile for an H100 (sm_90) without a GPU, and the default tiles fit the registers.

The interpreter (tests/test_loss.py) checks the numbers; this checks what the interpreter cannot:
that the kernels lower through Triton's GPU pipeline (layouts, wgmma, atomics) to a cubin, and that
the registers fit (``cuobjdump -res-usage`` reports no stack frame).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import torch

triton = pytest.importorskip("triton")
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402
from xcs.kernels.contrastive import KernelConfig  # noqa: E402
from xcs.kernels.contrastive_backward import softmax_gradient_kernel  # noqa: E402
from xcs.kernels.contrastive_forward import col_lse_kernel, row_lse_kernel  # noqa: E402

H100 = GPUTarget("cuda", 90, 32)
INPUT_POINTERS = ("q_ptr", "d_ptr")
INDEX_POINTERS = ("labels_ptr", "positive_ids_ptr", "doc_ids_ptr")
INTEGERS = ("num_queries", "num_docs", "dim", "stride_q", "stride_d")
FLOATS = ("inv_tau", "margin_scaled")
TRITON_DTYPES = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}


def _compile(kernel, dtype: torch.dtype, config: KernelConfig, has_ids: bool):
    constants = {
        "HAS_IDS": has_ids, "SYMMETRIC": True, "BLOCK_M": config.block_m, "BLOCK_N": config.block_n,
        "BLOCK_K": config.block_k, "BLOCK_D": config.block_d, "GROUP_M": config.group_m,
        "UPCAST": False, "PRECISION": config.precision,
    }  # fmt: skip
    signature = {}
    for name in kernel.arg_names:
        if name in constants:
            signature[name] = "constexpr"
        elif name in INPUT_POINTERS:
            signature[name] = "*" + TRITON_DTYPES[dtype]
        elif name in INDEX_POINTERS:
            signature[name] = "*i32"
        elif name in INTEGERS:
            signature[name] = "i32"
        elif name in FLOATS:
            signature[name] = "fp32"
        else:
            signature[name] = "*fp32"
    constexprs = {(kernel.arg_names.index(k),): v for k, v in constants.items() if k in kernel.arg_names}
    source = ASTSource(kernel, signature, constexprs=constexprs)
    options = {"num_warps": config.num_warps, "num_stages": config.num_stages}
    return triton.compile(source, target=H100, options=options)


def _stack_bytes(cubin: bytes, tmp_path: Path) -> int | None:
    """Per-thread stack (spill) bytes from cuobjdump, or None where the tool is not shipped."""
    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    if not os.access(tool, os.X_OK):
        return None
    path = tmp_path / "kernel.cubin"
    path.write_bytes(cubin)
    usage = subprocess.run([str(tool), "-res-usage", str(path)], capture_output=True, text=True).stdout
    match = re.search(r"STACK:(\d+)", usage)
    return None if match is None else int(match.group(1))


@pytest.mark.parametrize(
    "kernel", [row_lse_kernel, col_lse_kernel, softmax_gradient_kernel], ids=lambda k: k.fn.__name__
)
@pytest.mark.parametrize("has_ids", [False, True], ids=["plain", "false_negative_ids"])
def test_bf16_kernels_compile_for_sm90_without_spills(kernel, has_ids, tmp_path, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    compiled = _compile(kernel, torch.bfloat16, KernelConfig.for_inputs(torch.bfloat16), has_ids)
    assert "wgmma" in compiled.asm["ptx"]  # tensor-core (Hopper) matrix multiply
    stack = _stack_bytes(compiled.asm["cubin"], tmp_path)
    if stack is None:
        pytest.skip("cuobjdump not available to read register usage")
    # the training default (rows only, no id mask) must fit the registers; the symmetric column
    # kernel and the id mask spill a little at these tiles (docs/loss.md), guarded from growing
    limit = 0 if kernel is not col_lse_kernel and not has_ids else 512
    assert stack <= limit, f"{kernel.fn.__name__} spills {stack} bytes per thread (limit {limit})"
