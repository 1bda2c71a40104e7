"""The evaluation suite end to end on small files the tests write, with fake encoders."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from xcs.cli import main
from xcs.evaluation.protocol import resolve_tasks
from xcs.evaluation.report import headline_metrics, load_per_query
from xcs.evaluation.suite import evaluate
from xcs.io.versions import versions

LANGS = ("de", "en", "ru")
SENTENCES = [
    ["The river floods in spring.", "Farmers plant rice.", "Boats carry the harvest."],
    ["A castle stands on the hill.", "Kings lived there for centuries.", "Tourists visit it today."],
]
QUESTIONS = [("q1", 0, 0, "When does the river flood?"), ("q2", 0, 2, "What do boats carry?"),
             ("q3", 1, 1, "Who lived in the castle?"), ("q4", 1, 0, "Where is the castle?")]


ANSWER_OF = {q: SENTENCES[para][sent] for _, para, sent, q in QUESTIONS}


class TagEncoder:
    """Texts look like "[xx] words"; the language tag is ignored, so every translation gets the same
    vector, and a question gets its answer sentence's vector (a perfect cross-lingual QA encoder).
    Records what it was asked to encode."""

    description = "tag-stripping hashed bag of words (test double)"

    def __init__(self, noise: float = 0.0):
        self.noise = noise
        self.calls: list[tuple[str | None, list[str]]] = []

    def encode(self, texts, kind=None):
        self.calls.append((kind, list(texts)))
        out = np.zeros((len(texts), 64), np.float32)
        for i, text in enumerate(texts):
            untagged = text.split("] ", 1)[-1]
            words = ANSWER_OF.get(untagged, untagged).lower().strip(".?").split()
            for w in words:
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
            if self.noise:
                seed = int(hashlib.md5(text.encode()).hexdigest(), 16) % (2**32)
                out[i] += self.noise * np.random.default_rng(seed).standard_normal(64)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _write_data(root):
    (root / "xquad-r").mkdir(parents=True)
    for lang in LANGS:
        paragraphs = []
        for p, sentences in enumerate(SENTENCES):
            tagged = [f"[{lang}] {s}" for s in sentences]
            context, breaks = "", []
            for s in tagged:
                start = len(context) + (1 if context else 0)
                context = f"{context} {s}" if context else s
                breaks.append([start, start + len(s)])
            qas = [{"id": qid, "question": f"[{lang}] {q}",
                    "answers": [{"text": "x", "answer_start": breaks[sent][0] + 1}]}
                   for qid, para, sent, q in QUESTIONS if para == p]
            paragraphs.append({"context": context, "sentence_breaks": breaks, "qas": qas,
                               "sentences": tagged})
        (root / "xquad-r" / f"{lang}.json").write_text(json.dumps({"data": [{"title": "t",
                                                                             "paragraphs": paragraphs}]}))
    (root / "tatoeba").mkdir()
    english = ["I like tea.", "The dog sleeps.", "We go home now.", "Rain is cold."]
    for code in ("deu", "rus"):
        tagged = "".join(f"[{code}] {s}\n" for s in english)
        (root / "tatoeba" / f"tatoeba.{code}-eng.{code}").write_text(tagged)
        (root / "tatoeba" / f"tatoeba.{code}-eng.eng").write_text("".join(f"{s}\n" for s in english))
    return root


@pytest.fixture()
def tiny_data(tmp_path):
    return _write_data(tmp_path / "data")


def test_perfect_encoder_scores_one_and_encodes_each_text_once(tiny_data, tmp_path, monkeypatch):
    encoder = TagEncoder()
    out = tmp_path / "run"
    renamed = []  # every output file is written next to its place, then renamed (atomic)
    replace = os.replace

    def recording_replace(src, dst):  # other writers (a cold Numba cache) rename files elsewhere
        if Path(dst).parent == out:
            renamed.append(Path(dst).name)
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    metrics = evaluate(encoder, "lareqa,xquadr,tatoeba", tiny_data, out, tatoeba_languages=["de", "ru"])
    assert list(metrics) == ["lareqa", "moir", "clir", "mlir", "tatoeba"]
    assert metrics["lareqa"]["map@20"] == pytest.approx(1.0)
    assert metrics["lareqa"]["n_candidates"] == 3 * 6
    assert metrics["moir"]["mrr@10"] == pytest.approx(1.0)
    assert metrics["clir"]["mrr@10"] == pytest.approx(1.0)
    assert len(metrics["clir"]["by_pair"]) == 6
    assert metrics["mlir"]["mrr@10"] == pytest.approx(1.0)
    assert metrics["tatoeba"]["acc@1"] == pytest.approx(1.0)
    # one encode call per kind, no text twice (English Tatoeba lines are shared by deu and rus)
    kinds = [kind for kind, _ in encoder.calls]
    assert sorted(kinds) == ["passage", "query"]
    for _, texts in encoder.calls:
        assert len(texts) == len(set(texts))
    query_texts = next(texts for kind, texts in encoder.calls if kind == "query")
    assert len(query_texts) == 3 * 4 + 4 + 2 * 4  # questions, English, de + ru Tatoeba lines
    outputs = ["metrics.json", "per_query.npz", "query_ids.npz", "report.md", "run_info.json",
               "clir_mrr10.png"]
    for name in outputs:
        assert (out / name).stat().st_size > 0
    assert sorted(renamed) == sorted(outputs) and sorted(p.name for p in out.iterdir()) == sorted(outputs)
    assert json.loads((out / "metrics.json").read_text())["clir"]["languages"] == list(LANGS)
    for name in ("metrics.json", "run_info.json"):  # the versions that produced them
        assert json.loads((out / name).read_text())["environment"] == versions()
    per_query = load_per_query(out, pairs=["en-de"])
    assert per_query["CLIR"].shape == (6 * 4,) and per_query["en-de"].shape == (4,)
    assert per_query["Tatoeba"].shape == (2 * 2 * 4,)
    assert set(headline_metrics(metrics, ["en-de"])) == {"MoIR", "CLIR", "MLIR", "en-de", "LAReQA", "Tatoeba"}


def test_noisy_encoder_and_compare(tiny_data, tmp_path, capsys):
    evaluate(TagEncoder(), "xquadr", tiny_data, tmp_path / "a")
    noisy = evaluate(TagEncoder(noise=3.0), "xquadr", tiny_data, tmp_path / "b")
    assert noisy["clir"]["mrr@10"] < 1.0
    # the MRR matrix diagonal is MoIR
    langs = noisy["clir"]["languages"]
    for i, lang in enumerate(langs):
        assert noisy["clir"]["matrix"][i][i] == pytest.approx(noisy["moir"]["by_language"][lang])
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--permutations", "200"]) == 0
    rows = json.loads(capsys.readouterr().out)
    clir = next(r for r in rows if r["column"] == "CLIR")
    assert clir["delta"] == pytest.approx(1.0 - noisy["clir"]["mrr@10"])
    assert 0.0 <= clir["p_t_bonferroni"] <= 1.0


def test_subsample_and_task_names(tiny_data, tmp_path):
    metrics = evaluate(TagEncoder(), ["lareqa", "tatoeba"], tiny_data, None, subsample=2,
                       tatoeba_languages=["de"])
    assert metrics["lareqa"]["n_queries"] == 2 * 3
    assert metrics["tatoeba"]["by_language"]["de"]["n"] == 2
    assert resolve_tasks("xquadr,lareqa") == ["lareqa", "moir", "clir", "mlir"]
    with pytest.raises(ValueError, match="unknown task"):
        resolve_tasks("bucc")
    with pytest.raises(FileNotFoundError):
        evaluate(TagEncoder(), "lareqa", tmp_path / "nowhere", None)


@pytest.mark.slow
def test_real_encoder_on_tatoeba_sample(data_dir, tmp_path):
    """The one real-encoder check: mE5-small finds most German translations of 20 sentences."""
    from xcs.models.encoder import Encoder

    metrics = evaluate(Encoder("default"), "tatoeba", data_dir, None, subsample=20,
                       tatoeba_languages=["de"])
    assert metrics["tatoeba"]["acc@1"] > 0.8
