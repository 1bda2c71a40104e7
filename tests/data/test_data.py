"""Readers: XQuAD-R format, Tatoeba, SQuAD pairs (XQuAD paragraphs held out), Mewsli-X jsonl."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xcs.data import (
    TATOEBA_XTREME_R_LANGUAGES,
    XQUAD_QUESTION_IDS,
    load_mewslix_entities,
    load_mewslix_mentions,
    load_squad_pairs,
    load_tatoeba,
    load_tatoeba_all,
    load_xquadr,
    load_xquadr_dir,
)


def _xquadr_doc():
    context = "Alpha one. Beta two here. Gamma three."
    breaks = [[0, 10], [11, 25], [26, 38]]
    return {"data": [{"title": "T", "paragraphs": [{
        "context": context, "sentence_breaks": breaks, "sentences": [context[s:e] for s, e in breaks],
        "qas": [
            {"id": "q1", "question": "Which two?", "answers": [{"text": "two", "answer_start": 16}]},
            {"id": "q2", "question": "Which one?", "answers": [{"text": "one", "answer_start": 6}]},
            {"id": "q3", "question": "Gap?", "answers": [{"text": " ", "answer_start": 10}]},
        ]}]}]}


def test_xquadr_answer_sentence_from_breaks(tmp_path):
    path = tmp_path / "xx.json"
    path.write_text(json.dumps(_xquadr_doc()))
    s = load_xquadr(path)
    assert s.language == "xx"
    assert s.candidates == ["Alpha one.", "Beta two here.", "Gamma three."]
    assert s.question_ids == ["q1", "q2"] and s.skipped == 1  # q3's answer starts between sentences
    assert s.answers.tolist() == [1, 0]
    restricted = s.restrict(frozenset({"q2"}))
    assert restricted.questions == ["Which one?"] and len(restricted.candidates) == 3


def test_xquadr_errors_name_the_place(tmp_path):
    doc = _xquadr_doc()
    doc["data"][0]["paragraphs"][0]["sentence_breaks"][2] = [26, 99]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"bad.json: data\[0\].paragraphs\[0\]: sentence break"):
        load_xquadr(path)
    with pytest.raises(FileNotFoundError):
        load_xquadr_dir(tmp_path / "missing")


def test_real_xquadr(data_dir):
    sets = load_xquadr_dir(data_dir / "xquad-r", ["en", "th"])
    assert len(sets["en"].questions) == 1190 and sets["en"].skipped == 0
    assert len(sets["th"].candidates) == 852
    en = sets["en"]
    # the answer text lies inside the chosen answer sentence for nearly every question
    assert set(en.question_ids) == XQUAD_QUESTION_IDS


def test_tatoeba_languages_and_reader(tmp_path, data_dir):
    assert len(TATOEBA_XTREME_R_LANGUAGES) == 41 and "eng" not in TATOEBA_XTREME_R_LANGUAGES
    (tmp_path / "tatoeba.deu-eng.deu").write_text("Hallo\nDanke\n")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("Hello\nThanks\n")
    pair = load_tatoeba(tmp_path, "de")
    assert (pair.language, pair.code, pair.source, pair.english) == ("de", "deu", ["Hallo", "Danke"],
                                                                     ["Hello", "Thanks"])
    (tmp_path / "tatoeba.deu-eng.eng").write_text("Hello\n")
    with pytest.raises(ValueError, match="2 deu lines but 1 eng"):
        load_tatoeba(tmp_path, "de")
    every = load_tatoeba_all(data_dir / "tatoeba")
    assert len(every) == 41 and all(len(p.source) == len(p.english) > 0 for p in every.values())


def test_squad_pairs_hold_out_xquad(data_dir):
    path = data_dir / "squad" / "dev-v1.1.json"
    held = load_squad_pairs(path)
    document = json.loads(path.read_text())
    answers = {qa["id"]: qa["answers"][0]["text"] for a in document["data"] for p in a["paragraphs"]
               for qa in p["qas"]}
    assert len(answers) == 10570 and len(held) == 10570 - 1190
    assert not {p.question_id for p in held} & XQUAD_QUESTION_IDS
    assert all(p.answer_sentence in p.paragraph for p in held[:50])
    # the chosen sentence holds the answer text for the vast majority of questions
    assert np.mean([answers[p.question_id] in p.answer_sentence for p in held]) > 0.95


def test_mewslix_reader(tmp_path):
    text = "Rain in Paris. The Seine rose."
    article = {"context": {"document_id": "d1", "language": "en", "text": text,
                           "sentence_spans": [{"start": 0, "end": 14}, {"start": 15, "end": 30}]},
               "mentions": [{"example_id": "m1", "entity_id": "Q90",
                             "mention_span": {"text": "Paris", "start": 8, "end": 13}},
                            {"example_id": "m2", "entity_id": "Q1471",
                             "mention_span": {"text": "Seine", "start": 19, "end": 24}}]}
    mentions_path = tmp_path / "wikinews_mentions-dev.jsonl"
    mentions_path.write_text(json.dumps(article) + "\n\n")
    mentions = load_mewslix_mentions(mentions_path)
    assert [(m.entity_id, m.text, m.sentence) for m in mentions] == [
        ("Q90", "Paris", "Rain in Paris."), ("Q1471", "Seine", "The Seine rose.")]
    entities_path = tmp_path / "candidate_set_entities.jsonl"
    entities_path.write_text(json.dumps({"entity_id": "Q90", "title": "Paris", "description": "Capital.",
                                         "description_language": "en", "sentence_spans": [[0, 8]]}) + "\n")
    assert load_mewslix_entities(entities_path)[0].description == "Capital."
    article["mentions"][0]["mention_span"]["start"] = 7
    mentions_path.write_text(json.dumps(article) + "\n")
    with pytest.raises(ValueError, match=r"wikinews_mentions-dev.jsonl:1: mention 'm1'"):
        load_mewslix_mentions(mentions_path)
    mentions_path.write_text("{not json\n")
    with pytest.raises(ValueError, match=r":1: not valid JSON"):
        load_mewslix_mentions(mentions_path)
