"""SQuAD v1.1 as training pairs: question -> the sentence that holds its answer (and the paragraph).

SQuAD has no sentence spans, so paragraphs are split by a small rule-based splitter (terminal
punctuation followed by a capitalised word, minus common abbreviations and initials). XQuAD (and so XQuAD-R)
translated 240 paragraphs of the *dev* set; pairs from those paragraphs are left out by default so a
model trained on them is never tested on its training paragraphs. The 1190 question ids are shipped
in ``xquad_question_ids.txt``; a paragraph is held out when any of its questions is among them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

URLS = {
    "train": "https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v1.1.json",
    "dev": "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json",
}


@lru_cache(maxsize=1)
def _xquad_question_ids() -> frozenset[str]:
    path = Path(__file__).with_name("xquad_question_ids.txt")
    with open(path, encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip() and not line.startswith("#"))


def __getattr__(name: str):
    if name == "XQUAD_QUESTION_IDS":
        return _xquad_question_ids()
    raise AttributeError(name)


@dataclass
class SquadPair:
    """A question with the sentence holding its (first) answer; ``paragraph`` is its context."""

    question_id: str
    title: str
    question: str
    answer_sentence: str
    paragraph: str


# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by whitespace and an upper-case
# letter, digit or opening quote -- unless the word before the stop is a known abbreviation or a
# single letter (initials, "U.S."). Cheap, dependency-free and good enough on Wikipedia prose.
_BOUNDARY = re.compile(r"""[.!?]["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])""")
_ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "vol",
    "fig", "approx", "gen", "col", "lt", "sgt", "capt", "rev", "inc", "ltd", "co", "corp", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft",
))


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (whitespace between sentences is in no span)."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        stop = match.start() + 1
        word = text[start:stop].rsplit(None, 1)[-1].rstrip(".!?").lower() if text[start:stop].strip() else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or re.fullmatch(r"(\w\.)+\w", word):
            continue
        end = match.end()
        spans.append((start, len(text[:end].rstrip())))
        start = end
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def read_squad_articles(path: Path) -> list:
    """The ``data`` list of a SQuAD v1.1-format JSON file (SQuAD, XQuAD-R, MLQA-R).

    Raises ``ValueError`` naming the file when it is not JSON or has no ``data`` list.
    """
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError(f"{path}: top level: expected an object with a 'data' list (SQuAD v1.1 format)")
    return document["data"]


def load_squad_pairs(
    path: str | os.PathLike[str], *, exclude_xquad: bool = True
) -> list[SquadPair]:
    """Read a SQuAD v1.1 JSON file into (question, answer sentence) pairs.

    Args:
        path: ``train-v1.1.json`` or ``dev-v1.1.json``.
        exclude_xquad: drop the 240 dev paragraphs that XQuAD translated (no-op on the train file).
    """
    path = Path(path)
    articles = read_squad_articles(path)
    held_out = _xquad_question_ids() if exclude_xquad else frozenset()
    pairs: list[SquadPair] = []
    for a, article in enumerate(articles):
        title = article.get("title", "")
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            try:
                context, qas = paragraph["context"], paragraph["qas"]
            except KeyError as exc:
                raise ValueError(f"{path}: data[{a}].paragraphs[{p}] lacks {exc}") from exc
            if held_out and any(qa.get("id") in held_out for qa in qas):
                continue
            spans = _sentence_spans(context)
            for q, qa in enumerate(qas):
                try:
                    start = int(qa["answers"][0]["answer_start"])
                    pair_id, question = str(qa["id"]), qa["question"]
                except (KeyError, IndexError, TypeError, ValueError) as exc:
                    where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                    raise ValueError(f"{path}: {where}: malformed ({exc!r})") from exc
                # the sentence whose span holds the answer start; Punkt spans skip the whitespace
                # between sentences, so fall back to the last sentence starting before the answer
                sentence = next((context[s:e] for s, e in spans if s <= start < e), None)
                if sentence is None:
                    before = [(s, e) for s, e in spans if s <= start]
                    if not before:
                        continue
                    sentence = context[before[-1][0] : before[-1][1]]
                pairs.append(SquadPair(pair_id, title, question, sentence, context))
    return pairs
