"""The cs-queries task: English questions code-switched into the answer's language."""

from __future__ import annotations

import pytest
from test_evaluation import TagEncoder, _write_data

from xcs.evaluation.suite import check_evaluation, evaluate


@pytest.fixture()
def data(tmp_path):
    root = _write_data(tmp_path / "data")
    (root / "xling").mkdir()
    # XLING's format: source<TAB>target; "river" and "castle" appear in the questions
    (root / "xling" / "en-de.train.freq.5k.tsv").write_text("river\tfluss\ncastle\tburg\nboats\tboote\n")
    return root


def test_switched_questions_are_scored_against_the_answer_language(data, tmp_path):
    encoder = TagEncoder()
    metrics = evaluate(encoder, "clir,cs-queries", data, tmp_path / "run", cs_query_rates=[0.5, 1.0])
    result = metrics["cs-queries"]
    assert result["languages"] == ["de"]  # only en-de has an XLING file here
    assert set(result["by_setting"]) == {"en-de@p=0.5", "en-de@p=1"}
    full = result["by_setting"]["en-de@p=1"]
    assert full["clean_mrr@10"] == pytest.approx(metrics["clir"]["by_pair"]["en-de"])
    assert full["drop"] == pytest.approx(full["clean_mrr@10"] - full["mrr@10"])
    assert 0 < full["switched_words"] < 1  # only the lexicon's words change
    queries = [texts for kind, texts in encoder.calls if kind == "query"][0]
    assert any("fluss" in q for q in queries) and any("burg" in q for q in queries)
    assert not any("river" in q and "fluss" in q for q in queries)


def test_the_task_is_refused_without_a_lexicon_or_english(data, tmp_path):
    with pytest.raises(ValueError, match="no en -> X lexicon"):
        check_evaluation("cs-queries", data, languages=["en", "ru"])
    with pytest.raises(ValueError, match="include 'en'"):
        check_evaluation("cs-queries", data, languages=["de", "ru"])
    with pytest.raises(ValueError, match=r"rates in \(0, 1\]"):
        check_evaluation("cs-queries", data, cs_query_rates=[0.0])
    with pytest.raises(ValueError, match="path template"):
        check_evaluation("cs-queries", data, cs_query_lexicon="/no/template.tsv")


def test_headline_columns_hold_the_switched_score_and_the_drop(data, tmp_path):
    from xcs.evaluation.report import headline_metrics, load_per_query

    metrics = evaluate(TagEncoder(noise=0.5), "cs-queries", data, tmp_path / "run", cs_query_rates=[0.5, 1.0])
    headline = headline_metrics(metrics)
    result = metrics["cs-queries"]
    assert headline == {"CS-queries": result["mrr@10"], "CS-drop": result["drop"]}
    scores = load_per_query(tmp_path / "run")
    assert scores["CS-queries"].mean() == pytest.approx(headline["CS-queries"])
    assert scores["CS-drop"].mean() == pytest.approx(headline["CS-drop"])
