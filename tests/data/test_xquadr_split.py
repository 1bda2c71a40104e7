"""The XQuAD-R development / test split of issue 13: disjoint, by paragraph, fixed, all candidates kept."""

from __future__ import annotations

import pytest

from xcs.data.xquadr import load_xquadr_dir, split_question_ids, split_sets


@pytest.fixture(scope="module")
def sets(data_dir):
    return load_xquadr_dir(data_dir / "xquad-r", ["en", "de", "zh"])


def test_dev_and_test_questions_are_disjoint_and_cover_every_question(sets):
    dev, test = split_question_ids(sets, "dev"), split_question_ids(sets, "test")
    every = set().union(*(set(s.question_ids) for s in sets.values()))
    assert dev and test and not dev & test
    assert dev | test == every
    assert 0.15 < len(dev) / len(every) < 0.25  # a fifth of the paragraphs: about a fifth of the questions


def test_a_paragraph_falls_on_one_side_in_every_language(sets):
    dev = split_question_ids(sets, "dev")
    for s in sets.values():
        side_of_paragraph: dict[int, set[bool]] = {}
        for qid, answer in zip(s.question_ids, s.answers, strict=True):
            side_of_paragraph.setdefault(int(s.candidate_paragraph[answer]), set()).add(qid in dev)
        assert all(len(sides) == 1 for sides in side_of_paragraph.values())


def test_split_is_fixed_and_keeps_every_candidate(sets, data_dir):
    again = load_xquadr_dir(data_dir / "xquad-r", ["en", "de", "zh"])
    assert split_question_ids(sets, "dev") == split_question_ids(again, "dev")
    dev = split_sets(sets, "dev")
    for lang, s in dev.items():
        assert s.candidates == sets[lang].candidates  # retrieval over the whole pool
        answer_of = dict(zip(sets[lang].question_ids, sets[lang].answers, strict=True))
        assert all(a == answer_of[q] for q, a in zip(s.question_ids, s.answers, strict=True))
    with pytest.raises(ValueError, match="split must be one of"):
        split_question_ids(sets, "train")
