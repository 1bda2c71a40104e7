"""XQuAD-R / MLQA-R (LAReQA format): questions and candidate answer sentences per language.

The format is SQuAD v1.1 JSON with, per paragraph, ``sentences`` and ``sentence_breaks`` (character
spans into ``context``). Following google-research/xtreme ``third_party/utils_lareqa.py``: every
sentence of every paragraph is one candidate (identified by paragraph and position, so repeated
sentence text in different paragraphs gives different candidates), and the answer of a question is
the sentence whose span contains ``answer_start``; questions whose answer starts outside every span
are dropped (counted in ``skipped``). Question ids are shared across languages (the "xling id").
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xcs.data.squad import read_squad_articles

URLS = {
    "xquad-r": "https://raw.githubusercontent.com/google-research-datasets/lareqa/master/xquad-r/{lang}.json",
    # the whole LAReQA repository (XQuAD-R; MLQA-R-style sets use the same format)
    "lareqa-archive": "https://github.com/google-research-datasets/lareqa/archive/master.zip",
}
XQUADR_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


@dataclass
class XQuADRSet:
    """One language of an XQuAD-R-format file.

    Attributes:
        language: language code (the file stem).
        question_ids: (n_questions,) ids shared by the translations of a question.
        questions: question texts.
        answers: (n_questions,) int64 index into ``candidates`` of each question's answer sentence.
        candidates: candidate sentences, paragraph by paragraph.
        candidate_paragraph: (n_candidates,) int64 index into ``paragraphs``.
        paragraphs: paragraph texts (the candidates' contexts).
        skipped: questions dropped because no sentence span contains their answer start.
    """

    language: str
    question_ids: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    candidates: list[str] = field(default_factory=list)
    candidate_paragraph: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    paragraphs: list[str] = field(default_factory=list)
    skipped: int = 0

    def restrict(self, question_ids: set[str] | frozenset[str]) -> XQuADRSet:
        """Keep only the given questions and, as candidates, only the sentences of the paragraphs
        that answer them (re-indexed); a cheap, self-consistent subset for quick runs."""
        keep = [i for i, qid in enumerate(self.question_ids) if qid in question_ids]
        paragraphs = sorted({int(self.candidate_paragraph[self.answers[i]]) for i in keep})
        new_paragraph = {p: n for n, p in enumerate(paragraphs)}
        old_candidates = [c for c, p in enumerate(self.candidate_paragraph) if int(p) in new_paragraph]
        new_candidate = {c: n for n, c in enumerate(old_candidates)}
        return XQuADRSet(
            self.language,
            [self.question_ids[i] for i in keep],
            [self.questions[i] for i in keep],
            np.asarray([new_candidate[int(self.answers[i])] for i in keep], dtype=np.int64),
            [self.candidates[c] for c in old_candidates],
            np.asarray(
                [new_paragraph[int(self.candidate_paragraph[c])] for c in old_candidates], dtype=np.int64
            ),
            [self.paragraphs[p] for p in paragraphs],
            self.skipped,
        )


    def keep_questions(self, question_ids: set[str] | frozenset[str]) -> XQuADRSet:
        """Keep only the given questions; every sentence stays a candidate (unlike :meth:`restrict`),
        so retrieval over a split is as hard as over the whole set."""
        keep = [i for i, qid in enumerate(self.question_ids) if qid in question_ids]
        return XQuADRSet(self.language, [self.question_ids[i] for i in keep],
                         [self.questions[i] for i in keep], self.answers[keep], self.candidates,
                         self.candidate_paragraph, self.paragraphs, self.skipped)


SPLITS = ("dev", "test")
DEV_FRACTION = 0.2
SPLIT_SEED = 13  # fixed: the development split is part of the protocol, not a run option


def split_question_ids(sets: Mapping[str, XQuADRSet], part: str, *, dev_fraction: float = DEV_FRACTION,
                       seed: int = SPLIT_SEED) -> frozenset[str]:
    """The question ids of split ``part``: ``"dev"`` is every question of a fixed, seeded
    ``dev_fraction`` of the paragraphs, ``"test"`` every other question. Paragraphs are told apart
    by their question ids (the same in every language), so a paragraph and all its translations fall
    on one side: choosing settings on ``dev`` never looks at a ``test`` question."""
    if part not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {part!r}")
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must lie in (0, 1), got {dev_fraction}")
    # XQuAD-R files are parallel (paragraph i is the same paragraph in every language): the first
    # language, in sorted order, that has a question gives its paragraph
    paragraph_of: dict[str, int] = {}
    for lang in sorted(sets):
        s = sets[lang]
        for qid, answer in zip(s.question_ids, s.answers, strict=True):
            paragraph_of.setdefault(qid, int(s.candidate_paragraph[answer]))
    paragraphs = sorted(set(paragraph_of.values()))
    order = np.random.default_rng(seed).permutation(len(paragraphs))
    dev = {paragraphs[i] for i in order[: round(dev_fraction * len(paragraphs))]}
    return frozenset(qid for qid, p in paragraph_of.items() if (p in dev) == (part == "dev"))


def split_sets(sets: Mapping[str, XQuADRSet], part: str) -> dict[str, XQuADRSet]:
    """Every language restricted to the questions of split ``part`` (:func:`split_question_ids`),
    all sentences kept as candidates."""
    ids = split_question_ids(sets, part)
    return {lang: s.keep_questions(ids) for lang, s in sets.items()}


def sample_question_ids(question_ids: list[str], n_questions: int, seed: int = 0) -> list[str]:
    """The first ``n_questions`` ids of a seeded permutation of the sorted unique ids."""
    unique = sorted(set(question_ids))
    order = np.random.default_rng(seed).permutation(len(unique))
    return [unique[i] for i in order[:n_questions]]


def subsample_sets(sets: Mapping[str, XQuADRSet], n_questions: int, seed: int = 0) -> dict[str, XQuADRSet]:
    """The same ``n_questions`` questions in every language (drawn by :func:`sample_question_ids`
    from the ids all languages share), each set restricted to them and their paragraphs' sentences."""
    shared = set.intersection(*(set(s.question_ids) for s in sets.values()))
    chosen = frozenset(sample_question_ids(sorted(shared), n_questions, seed))
    return {lang: s.restrict(chosen) for lang, s in sets.items()}


# Paper-style MLIR (Litschko et al. 2023, mainlp/CodeSwitchCLIR src/eval_data/create_multilingual.py):
# the parallel collection becomes one multilingual collection by giving every document one language.
# XQuAD-R's sentences are not aligned across languages but its paragraphs are, so the paragraph is
# the unit drawn. One draw is noisy (about +-1.8 MRR@10 between draws for the untouched model), so
# the suite averages MLIR_DRAWS fixed draws; every model is scored on the same draws.
MLIR_DRAWS = 10
MLIR_SEED = 2023


def mlir_paragraph_languages(n_paragraphs: int, n_languages: int, draw: int, *,
                             seed: int = MLIR_SEED) -> np.ndarray:
    """The language of every paragraph in MLIR draw ``draw``: (n_paragraphs,) int64 indices into the
    (sorted) language list. Each paragraph gets exactly one language (a partition of the paragraphs),
    and the languages get ``n // L`` or ``n // L + 1`` paragraphs each: the paragraphs are ordered by
    a keyed BLAKE2 hash of ``(seed, draw, paragraph)`` and dealt out in turn, starting at language
    ``draw % L``. Hashing, not numpy's generators, so the draws are the same on every machine and
    numpy version."""
    if n_paragraphs < 0 or n_languages < 1 or draw < 0:
        raise ValueError(f"need n_paragraphs >= 0, n_languages >= 1 and draw >= 0, got {n_paragraphs}, "
                         f"{n_languages}, {draw}")
    keys = [hashlib.blake2b(f"{seed}:{draw}:{p}".encode(), digest_size=8).digest()
            for p in range(n_paragraphs)]
    order = sorted(range(n_paragraphs), key=keys.__getitem__)
    assigned = np.empty(n_paragraphs, dtype=np.int64)
    for rank, paragraph in enumerate(order):
        assigned[paragraph] = (rank + draw) % n_languages
    return assigned


def _fail(path: Path, where: str, what: str) -> ValueError:
    return ValueError(f"{path}: {where}: {what}")


def load_xquadr(path: str | os.PathLike[str], language: str | None = None) -> XQuADRSet:
    """Read one XQuAD-R-format JSON file; ``language`` defaults to the file stem."""
    path = Path(path)
    articles = read_squad_articles(path)
    out = XQuADRSet(language or path.stem)
    answers: list[int] = []
    paragraph_of: list[int] = []
    for a, article in enumerate(articles):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            where = f"data[{a}].paragraphs[{p}]"
            try:
                context = paragraph["context"]
                breaks = [(int(s), int(e)) for s, e in paragraph["sentence_breaks"]]
                qas = paragraph["qas"]
            except (KeyError, TypeError, ValueError) as exc:
                need = "needs 'context', 'qas' and [start, end] 'sentence_breaks'"
                raise _fail(path, where, f"{need} ({exc})") from exc
            for s, e in breaks:
                if not 0 <= s <= e <= len(context):
                    raise _fail(path, where, f"sentence break [{s}, {e}] outside the context")
            first = len(out.candidates)
            paragraph_index = len(out.paragraphs)
            out.paragraphs.append(context)
            out.candidates.extend(context[s:e] for s, e in breaks)
            paragraph_of.extend([paragraph_index] * len(breaks))
            for q, qa in enumerate(qas):
                try:
                    start = int(qa["answers"][0]["answer_start"])
                    qid, text = str(qa["id"]), qa["question"]
                except (KeyError, IndexError, TypeError, ValueError) as exc:
                    need = "needs 'id', 'question' and an answer"
                    raise _fail(path, f"{where}.qas[{q}]", f"{need} ({exc})") from exc
                sentence = next((i for i, (s, e) in enumerate(breaks) if s <= start < e), None)
                if sentence is None:
                    out.skipped += 1
                    continue
                out.question_ids.append(qid)
                out.questions.append(text)
                answers.append(first + sentence)
    out.answers = np.asarray(answers, dtype=np.int64)
    out.candidate_paragraph = np.asarray(paragraph_of, dtype=np.int64)
    return out


def load_xquadr_dir(
    directory: str | os.PathLike[str], languages: list[str] | tuple[str, ...] | None = None
) -> dict[str, XQuADRSet]:
    """Read ``{lang}.json`` for each language (default: every ``*.json`` in the directory)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"XQuAD-R directory not found: {directory}")
    if languages is None:
        files = sorted(directory.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"no *.json files in {directory}")
    else:
        files = [directory / f"{lang}.json" for lang in languages]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise FileNotFoundError(f"missing XQuAD-R files: {', '.join(missing)}")
    return {f.stem: load_xquadr(f) for f in files}
