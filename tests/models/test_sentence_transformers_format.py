"""xcs checkpoints in sentence-transformers and SentenceTransformers in xcs, with the real library (offline).

The fast tests use the tiny random BERT of ``conftest.py``; the slow ones the default
multilingual-e5-small, as converted (``xcs model convert`` / ``default_model_path``) and as
written by ``Encoder.save``.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from xcs.evaluation.report import headline_metrics
from xcs.evaluation.suite import evaluate
from xcs.models.encoder import Encoder
from xcs.models.sentence_transformers_format import write_sentence_transformers_files

pytest.importorskip("sentence_transformers")

TEXTS = ["the cat sat", "a dog", "the big red house sat on a mat", "cat", "dog sat on the red mat"]
# mE5 texts for the slow tests: questions and sentences in 11 languages, and one of 600+ tokens.
E5_TEXTS = [
    "How many people live in Berlin?", "Wie viele Menschen leben in Berlin?",
    "¿Cuántas personas viven en Berlín?", "Сколько людей живет в Берлине?",
    "كم عدد الأشخاص الذين يعيشون في برلين؟", "柏林有多少人居住？", "बर्लिन में कितने लोग रहते हैं?",
    "Πόσοι άνθρωποι ζουν στο Βερολίνο;", "มีคนอาศัยอยู่ในเบอร์ลินกี่คน", "Berlin'de kaç kişi yaşıyor?",
    "Có bao nhiêu người sống ở Berlin?", "Goethe schrieb den Faust.", "Der Eiffelturm steht in Paris.",
    "Katzen fressen Fleisch und Fisch.", "The 1973 oil crisis began in October 1973.",
    " ".join(["The river floods the valley every spring."] * 80),  # truncated at 512 tokens
]


@contextmanager
def logged_warnings() -> Iterator[list[str]]:
    """Collect what transformers / sentence-transformers log at WARNING or above, and Python warnings."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("transformers", "sentence_transformers")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)  # whatever the environment's verbosity: nothing may slip through
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
        messages.extend(f"{w.category.__name__}: {w.message}" for w in caught
                        if not issubclass(w.category, ResourceWarning))
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def load_sentence_transformer(path, **kwargs):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True, **kwargs)


def pooler_parameters(st_model) -> list[str]:
    return [name for name, _ in st_model[0].auto_model.named_parameters() if "pooler" in name]


def saved_tensor_names(directory) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(directory / "model.safetensors"), "pt") as weights:
        return list(weights.keys())


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# ----------------------------------------------------------------------------- Encoder.save -> ST


@pytest.mark.parametrize(("pooling", "normalize"), [("mean", True), ("cls", False)])
def test_saved_encoder_loads_in_sentence_transformers_with_its_settings(tiny_bert, tmp_path, pooling,
                                                                         normalize):
    encoder = Encoder(tiny_bert, pooling=pooling, normalize=normalize, query_prefix="big ",
                      passage_prefix="passage: ", max_length=32)
    saved = encoder.save(tmp_path / "saved")
    with logged_warnings() as messages:
        st_model = load_sentence_transformer(saved)
    assert messages == []  # in particular no "newly initialized" pooler
    assert pooler_parameters(st_model) == []
    assert [type(module).__name__ for module in st_model] == ["Transformer", "Pooling"] + (
        ["Normalize"] if normalize else [])
    assert st_model[1].pooling_mode == pooling
    assert st_model.prompts == {"query": "big ", "document": "passage: "}
    assert st_model.max_seq_length == 32
    assert st_model.similarity_fn_name == ("cosine" if normalize else "dot")
    np.testing.assert_allclose(st_model.encode_query(TEXTS), encoder.encode(TEXTS, kind="query"), atol=1e-5)
    np.testing.assert_allclose(st_model.encode_document(TEXTS), encoder.encode(TEXTS, kind="passage"),
                               atol=1e-5)
    long_text = " ".join(["cat"] * 100)  # truncated at 32 tokens by both
    np.testing.assert_allclose(st_model.encode_query([long_text]), encoder.encode([long_text], kind="query"),
                               atol=1e-5)


def test_sentence_transformers_resave_stores_no_pooler(tiny_bert, tmp_path):
    saved = Encoder(tiny_bert).save(tmp_path / "saved")
    assert not [name for name in saved_tensor_names(saved) if "pooler" in name]
    load_sentence_transformer(saved).save(str(tmp_path / "resaved"))
    resaved = tmp_path / "resaved"
    assert not [name for name in saved_tensor_names(resaved) if "pooler" in name]
    with logged_warnings() as messages:
        reloaded = load_sentence_transformer(resaved, model_kwargs={"add_pooling_layer": False})
        encoder = Encoder(resaved)
    assert messages == [] and pooler_parameters(reloaded) == []
    np.testing.assert_allclose(encoder.encode(TEXTS, kind="query"), reloaded.encode_query(TEXTS), atol=1e-5)


def test_inner_layer_encoder_is_saved_without_sentence_transformers_files(tiny_bert, tmp_path):
    with pytest.warns(UserWarning, match="last hidden layer only"):
        saved = Encoder(tiny_bert, layer=1).save(tmp_path / "layer1")
    assert not (saved / "modules.json").exists() and Encoder(saved).layer == 1
    settings = {**Encoder(tiny_bert).settings(), "pooling": "max"}
    with pytest.raises(ValueError, match="pooling 'max'"):
        write_sentence_transformers_files(tmp_path, settings, Encoder(tiny_bert).model.config)


# ----------------------------------------------------------------------------- ST -> Encoder


def test_encoder_takes_a_sentence_transformer_apart(tiny_bert, tmp_path):
    saved = Encoder(tiny_bert, pooling="cls", normalize=False).save(tmp_path / "saved")
    st_model = load_sentence_transformer(saved, prompts={"query": "a ", "document": ""})
    encoder = Encoder(st_model)
    assert encoder.model is st_model[0].auto_model and encoder.tokenizer is st_model.tokenizer
    assert encoder.settings() == {"pooling": "cls", "layer": None, "normalize": False, "query_prefix": "a ",
                                  "passage_prefix": "", "max_length": 64}
    assert encoder.path == saved and encoder.description == f"SentenceTransformer({saved})"
    np.testing.assert_allclose(encoder.encode(TEXTS, kind="query"), st_model.encode_query(TEXTS), atol=1e-5)
    np.testing.assert_allclose(encoder.encode(TEXTS, kind="passage"), st_model.encode_document(TEXTS),
                               atol=1e-5)
    assert Encoder(st_model, query_prefix="", max_length=8).settings()["max_length"] == 8  # overrides win


def test_cosine_model_without_normalize_module_gives_normalised_vectors(tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    modules = [Transformer(str(tiny_bert), model_kwargs={"add_pooling_layer": False}), Pooling(32, "mean")]
    cosine = SentenceTransformer(modules=modules, device="cpu", similarity_fn_name="cosine")
    encoder = Encoder(cosine)  # inner product of its vectors = the model's cosine
    assert encoder.normalize and encoder.query_prefix == "" and encoder.passage_prefix == ""
    cosines = row_cosines(encoder.encode(TEXTS, kind="query"), cosine.encode_query(TEXTS))
    np.testing.assert_allclose(cosines, 1.0, rtol=1e-6)
    cosine.similarity_fn_name = "dot"
    assert not Encoder(cosine).normalize


def test_encoder_refuses_sentence_transformers_it_cannot_reproduce(tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer

    def model(*tail, **kwargs):
        transformer = Transformer(str(tiny_bert), model_kwargs={"add_pooling_layer": False})
        return SentenceTransformer(modules=[transformer, *tail], device="cpu", **kwargs)

    with pytest.raises(ValueError, match="pooling_mode='max'"):
        Encoder(model(Pooling(32, "max")))
    with pytest.raises(ValueError, match="include_prompt=False"):
        Encoder(model(Pooling(32, "mean", include_prompt=False)))
    with pytest.raises(ValueError, match="Transformer -> Pooling -> Dense -> Normalize"):
        Encoder(model(Pooling(32), Dense(32, 8), Normalize()))
    with pytest.raises(ValueError, match="inner product"):
        Encoder(model(Pooling(32), Normalize(), similarity_fn_name="euclidean"))


def _write_tatoeba(directory) -> None:
    directory.mkdir()
    sentences = "".join(f"{text}\n" for text in TEXTS)
    (directory / "tatoeba.deu-eng.deu").write_text(sentences, encoding="utf-8")
    (directory / "tatoeba.deu-eng.eng").write_text(sentences, encoding="utf-8")


def test_evaluate_takes_a_sentence_transformer_and_refuses_non_encoders(tiny_bert, tmp_path):
    saved = Encoder(tiny_bert).save(tmp_path / "saved")
    _write_tatoeba(tmp_path / "tatoeba")
    options = {"tatoeba_dir": tmp_path / "tatoeba", "tatoeba_languages": ["de"]}
    from_st = evaluate(load_sentence_transformer(saved), "tatoeba", out_dir=tmp_path / "run", **options)
    assert from_st == evaluate(Encoder(saved), "tatoeba", **options)
    assert from_st["tatoeba"]["acc@1"] == 1.0  # identical sentences on both sides
    run_info = json.loads((tmp_path / "run" / "run_info.json").read_text(encoding="utf-8"))
    assert run_info["model"] == f"SentenceTransformer({saved})"

    class NoKind:
        def encode(self, texts):
            return np.zeros((len(texts), 2), np.float32)

    for not_an_encoder in (object(), NoKind()):
        with pytest.raises(TypeError, match=r"encode\(texts, kind=\.\.\.\)"):
            evaluate(not_an_encoder, "tatoeba", **options)


# ----------------------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def e5_directories(tmp_path_factory):
    """The converted default checkpoint (``xcs model convert``'s output) and an ``Encoder.save`` copy."""
    from xcs.models.checkpoints import default_model_path

    saved = Encoder("default").save(tmp_path_factory.mktemp("e5") / "saved")
    return {"converted": default_model_path(), "saved": saved}


@pytest.mark.slow
@pytest.mark.parametrize("source", ["converted", "saved"])
def test_sentence_transformers_encodes_like_the_encoder(e5_directories, source, tmp_path):
    """SentenceTransformer(path).encode_query / encode_document vs Encoder(path), cosine >= 0.9999."""
    path = e5_directories[source]
    with logged_warnings() as messages:
        st_model = load_sentence_transformer(path)
    assert messages == [] and pooler_parameters(st_model) == []
    encoder = Encoder(path)
    for kind, st_encode in (("query", st_model.encode_query), ("passage", st_model.encode_document)):
        cosine = row_cosines(st_encode(E5_TEXTS), encoder.encode(E5_TEXTS, kind=kind))
        assert cosine.min() >= 0.9999, f"{kind}: min cosine {cosine.min():.6f} at {int(cosine.argmin())}"

    st_model.save(str(tmp_path / "resaved"))  # a save made by sentence-transformers stores no pooler
    assert not [name for name in saved_tensor_names(tmp_path / "resaved") if "pooler" in name]
    with logged_warnings() as messages:
        reloaded = load_sentence_transformer(tmp_path / "resaved", model_kwargs={"add_pooling_layer": False})
    assert messages == [] and pooler_parameters(reloaded) == []
    assert reloaded.prompts == {"query": "query: ", "document": "passage: "}


@pytest.mark.slow
def test_evaluate_sentence_transformer_equals_encoder(e5_directories, data_dir):
    path = e5_directories["converted"]
    options = {"languages": ["de", "en", "ru"], "tatoeba_languages": ["de"], "subsample": 10}
    from_st = evaluate(load_sentence_transformer(path), "lareqa,xquadr,tatoeba", data_dir, **options)
    from_encoder = evaluate(Encoder(path), "lareqa,xquadr,tatoeba", data_dir, **options)
    pairs = ["en-de", "de-ru"]
    assert headline_metrics(from_st, pairs) == pytest.approx(headline_metrics(from_encoder, pairs), abs=1e-6)
    assert from_st["tatoeba"]["acc@1"] > 0.8
