"""Paper-style MLIR: the paragraph-language draws and the task on a synthetic parallel collection."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.data.xquadr import MLIR_SEED, XQuADRSet, mlir_paragraph_languages
from xcs.evaluation.tasks import TextTable, build_pool, mlir_task

LANGS = ["de", "en", "ru"]
N_PARAGRAPHS = 30  # two sentences each: 60 candidates per draw, more than MRR@10's cutoff


@pytest.mark.parametrize(("n", "n_languages"), [(0, 3), (1, 11), (240, 11), (31, 4)])
@pytest.mark.parametrize("draw", [0, 1, 7])
def test_draw_is_a_balanced_partition(n, n_languages, draw):
    assigned = mlir_paragraph_languages(n, n_languages, draw)
    assert assigned.shape == (n,) and assigned.dtype == np.int64  # one language per paragraph
    assert ((assigned >= 0) & (assigned < n_languages)).all()
    counts = np.bincount(assigned, minlength=n_languages)
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_draws_are_stable_and_differ():
    # fixed values: a change of the hashing would silently change every MLIR number ever reported
    assert mlir_paragraph_languages(12, 3, 0).tolist() == [1, 1, 0, 2, 2, 0, 0, 1, 1, 0, 2, 2]
    assert mlir_paragraph_languages(12, 3, 1).tolist() == [1, 0, 2, 1, 1, 0, 2, 2, 0, 2, 0, 1]
    assert MLIR_SEED == 2023
    first = mlir_paragraph_languages(240, 11, 0)
    assert np.array_equal(first, mlir_paragraph_languages(240, 11, 0))
    assert (first != mlir_paragraph_languages(240, 11, 1)).mean() > 0.5
    assert (first != mlir_paragraph_languages(240, 11, 0, seed=1)).mean() > 0.5


def test_draw_arguments_are_checked():
    with pytest.raises(ValueError, match="n_languages >= 1"):
        mlir_paragraph_languages(10, 0, 0)
    with pytest.raises(ValueError, match="draw >= 0"):
        mlir_paragraph_languages(10, 3, -1)


def _sets(languages=LANGS, n_paragraphs=N_PARAGRAPHS, missing=()):
    """Parallel sets: paragraph p has sentences "LANG p a" / "LANG p b"; question qP is answered by
    "LANG p a". ``missing``: (lang, paragraph) whose question is absent in that language."""
    sets = {}
    for lang in languages:
        keep = [p for p in range(n_paragraphs) if (lang, p) not in missing]
        sets[lang] = XQuADRSet(
            lang, [f"q{p}" for p in keep], [f"{lang} question {p}" for p in keep],
            np.asarray([2 * p for p in keep], dtype=np.int64),
            [f"{lang} {p} {part}" for p in range(n_paragraphs) for part in "ab"],
            np.repeat(np.arange(n_paragraphs), 2), [f"{lang} paragraph {p}" for p in range(n_paragraphs)])
    return sets


class SameLanguageEncoder:
    """One axis per (language, paragraph, sentence): a question in X scores 1 on its answer in X and
    -1 on the answer's translations (ranked last), 0 on everything else. ``cross_lingual=True``
    gives the translations +1 too (a perfect cross-lingual encoder)."""

    def __init__(self, cross_lingual=False):
        self.cross_lingual = cross_lingual
        self.axis = {f"{lang} {p} {part}": i for i, (lang, p, part) in enumerate(
            (lang, p, part) for lang in LANGS for p in range(N_PARAGRAPHS) for part in "ab")}

    def encode(self, texts, kind=None):
        out = np.zeros((len(texts), len(self.axis)), np.float32)
        for i, text in enumerate(texts):
            words = text.split()
            if words[1] == "question":
                lang, p = words[0], int(words[2])
                for other in LANGS:
                    same = other == lang or self.cross_lingual
                    out[i, self.axis[f"{other} {p} a"]] = 1.0 if same else -1.0
            else:
                out[i, self.axis[text]] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _run(sets, encoder, draws=6):
    table = TextTable()
    pool = build_pool(sets, table)
    table.encode(encoder, {})
    per_query, query_ids = {}, {}
    return mlir_task(pool, table, per_query, query_ids, draws=draws), per_query, query_ids


def test_relevant_is_the_answer_in_its_paragraphs_drawn_language():
    draws = 6
    result, per_query, query_ids = _run(_sets(), SameLanguageEncoder(), draws)
    drawn = np.stack([mlir_paragraph_languages(N_PARAGRAPHS, len(LANGS), d) for d in range(draws)])
    for j, lang in enumerate(LANGS):
        # found at rank 1 exactly in the draws that put the paragraph in the query's language, and
        # ranked last (beyond 10) in the others: the translation in the collection is the only relevant
        expected = (drawn == j).mean(axis=0)
        assert per_query[f"mlir/mrr@10/{lang}"] == pytest.approx(expected)
        assert query_ids[f"mlir/mrr@10/{lang}"].tolist() == [f"q{p}" for p in range(N_PARAGRAPHS)]
        assert result["by_language"][lang]["mrr@10"] == pytest.approx(expected.mean())
    assert result["draws"] == draws and len(result["per_draw_mrr@10"]) == draws
    assert result["mean_collection_size"] == 2 * N_PARAGRAPHS  # every paragraph exactly once
    assert result["mrr@10"] == pytest.approx(1 / 3, abs=0.02)

    perfect, _, _ = _run(_sets(), SameLanguageEncoder(cross_lingual=True), draws)
    assert perfect["mrr@10"] == pytest.approx(1.0)


@pytest.mark.parametrize("draws", [1, 2, 4])
@pytest.mark.parametrize("only", LANGS)
def test_question_without_answer_in_the_drawn_language_is_left_out_of_that_draw(draws, only):
    # paragraph 0 lands in de, de, ru, ru in draws 0-3: every branch below is taken by some case
    drawn = np.stack([mlir_paragraph_languages(N_PARAGRAPHS, len(LANGS), d) for d in range(draws)])
    # q0 exists in language `only` alone: a draw that puts paragraph 0 elsewhere cannot score it
    sets = _sets(missing={(lang, 0) for lang in LANGS if lang != only})
    result, per_query, query_ids = _run(sets, SameLanguageEncoder(cross_lingual=True), draws)
    assert result["mrr@10"] == pytest.approx(1.0)  # never counted as a miss
    asked = query_ids[f"mlir/mrr@10/{only}"].tolist()
    assert ("q0" in asked) == bool((drawn[:, 0] == LANGS.index(only)).any())
    assert len(asked) == len(per_query[f"mlir/mrr@10/{only}"])
    assert np.isfinite(per_query[f"mlir/mrr@10/{only}"]).all()


def test_non_parallel_sets_are_refused():
    sets = _sets()
    sets["ru"] = _sets(n_paragraphs=N_PARAGRAPHS - 1)["ru"]
    with pytest.raises(ValueError, match="paragraph counts differ"):
        _run(sets, SameLanguageEncoder())
