"""Mewsli-X in the google-research jsonl format (dense_representations_for_entity_retrieval/mel).

``candidate_set_entities.jsonl``: one entity per line (``entity_id``, ``title``, ``description``,
``description_language``, ``sentence_spans``). ``wikinews_mentions-{dev,test}.jsonl``: one article
per line, ``{"context": {"document_id", "language", "text", "sentence_spans", ...}, "mentions":
[{"example_id", "entity_id", "mention_span": {"text", "start", "end"}}]}``. The released files need
the WikiNews text filled in by the upstream ``get-mewsli-x.sh``; it is not available offline here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

URL = "https://storage.googleapis.com/gresearch/mewsli/mewsli-x_20220518_6.zip"


@dataclass
class MewsliXEntity:
    entity_id: str
    title: str
    description: str
    language: str


@dataclass
class MewsliXMention:
    """One mention in context: ``context[start:end] == text``; ``sentence`` is the sentence that holds
    the mention (the whole context when no sentence spans are given)."""

    example_id: str
    entity_id: str
    language: str
    text: str
    start: int
    end: int
    context: str
    sentence: str


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.exists():
        raise FileNotFoundError(f"Mewsli-X file not found: {path}")
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON: {exc}") from exc


def _span(value, where: str) -> tuple[int, int]:
    if isinstance(value, dict):
        return int(value["start"]), int(value["end"])
    start, end = value
    return int(start), int(end)


def load_mewslix_entities(path: str | os.PathLike[str]) -> list[MewsliXEntity]:
    """Read ``candidate_set_entities.jsonl``."""
    path = Path(path)
    out = []
    for number, row in _jsonl(path):
        try:
            out.append(MewsliXEntity(str(row["entity_id"]), row.get("title", ""), row["description"],
                                     row.get("description_language", "")))
        except KeyError as exc:
            raise ValueError(f"{path}:{number}: entity lacks {exc}") from exc
    return out


def load_mewslix_mentions(path: str | os.PathLike[str]) -> list[MewsliXMention]:
    """Read ``wikinews_mentions-{split}.jsonl``, one :class:`MewsliXMention` per mention."""
    path = Path(path)
    out = []
    for number, row in _jsonl(path):
        try:
            context = row["context"]
            text = context["text"]
            spans = [_span(s, f"{path}:{number}") for s in context.get("sentence_spans", [])]
            for mention in row["mentions"]:
                span = mention["mention_span"]
                start, end = _span(span, f"{path}:{number}")
                if not text:
                    raise ValueError(f"{path}:{number}: empty context text (run upstream get-mewsli-x.sh)")
                if text[start:end] != span["text"]:
                    raise ValueError(
                        f"{path}:{number}: mention {mention['example_id']!r} span [{start}, {end}] holds "
                        f"{text[start:end]!r}, not {span['text']!r}"
                    )
                sentence = next((text[s:e] for s, e in spans if s <= start < e), text)
                out.append(MewsliXMention(
                    str(mention["example_id"]), str(mention["entity_id"]), context.get("language", ""),
                    span["text"], start, end, text, sentence,
                ))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: malformed Mewsli-X record ({exc!r})") from exc
    return out
