"""The training methods the experiment compares, and the batches they feed the trainer.

A :class:`Method` says which texts get code-switched (queries, documents or both), into which
languages (one: BL-CS; several, drawn per word: ML-CS; a phrase lexicon: Wiki-CS), with which switch
rate ``p`` (constant, or rising linearly from ``p_start`` over training), and how strongly each text
is pulled towards its code-switched copy (``align_weight``, the contrastive alignment term).
``kind = "zero-shot"`` is the English-only baseline. The translate-test baseline needs no training:
:class:`TranslateTestEncoder` translates queries and candidates word by word into English with the
reverse lexicons before encoding with the zero-shot model.

:class:`CodeSwitchBatchBuilder` turns training pairs into token ids for ``xcs.train.train``: it
tokenizes without the mE5 prefixes, code-switches with ``xcs.CodeSwitcher`` (so the prefix words are
never translated), then inserts the prefix ids after ``<s>``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xcs.codeswitch import DOCUMENT_INDEX_OFFSET
from xcs.train import TokenBatch, Tokens, TrainPair

METHOD_KINDS = ("zero-shot", "code-switch", "translate-test", "off-the-shelf", "rerank")
SIDES = ("both", "query", "document")


@dataclass
class Method:
    """One row of the comparison (one model per seed).

    ``languages`` are the code-switching targets of both sides; ``query_languages`` /
    ``document_languages`` override them per side (the paper switches each side into its own
    language for a bilingual pair). One language gives bilingual switching, several multilingual
    switching with per-word draws weighted by ``weights`` (uniform when empty). ``lexicon`` is
    ``"muse"`` (``DATA/muse/en-XX.txt``) or a path template containing ``{lang}`` (e.g. Wikipedia
    title lexicons built by ``xcs lexicon build``). ``train`` overrides fields of the experiment's
    ``TrainConfig`` for this method only. ``kind = "rerank"`` trains a cross-encoder with
    code-switching on both sides and reranks the baseline dual encoder's top ``rerank_k``.
    """

    name: str
    kind: str = "code-switch"
    languages: list[str] = field(default_factory=list)
    query_languages: list[str] | None = None
    document_languages: list[str] | None = None
    weights: list[float] = field(default_factory=list)
    sides: str = "both"
    p: float = 0.5
    p_start: float | None = None
    align_weight: float = 0.0
    lexicon: str = "muse"
    lowercase: bool = True
    max_candidates: int | None = 10
    train: dict[str, Any] = field(default_factory=dict)
    rerank_k: int = 20

    def __post_init__(self) -> None:
        if self.kind not in METHOD_KINDS:
            raise ValueError(f"method {self.name!r}: kind must be one of {METHOD_KINDS}, got {self.kind!r}")
        if self.sides not in SIDES:
            raise ValueError(f"method {self.name!r}: sides must be one of {SIDES}, got {self.sides!r}")
        for name, value in (("p", self.p), ("p_start", self.p_start)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"method {self.name!r}: {name} must lie in [0, 1], got {value}")
        if self.kind == "code-switch" and not (self.languages or self.query_languages
                                               or self.document_languages):
            raise ValueError(f"method {self.name!r}: code-switching needs 'languages'")
        if self.kind in ("translate-test", "rerank") and not self.languages:
            raise ValueError(f"method {self.name!r}: {self.kind} needs 'languages'")
        if self.weights:
            # one weight per language of every side that switches multilingually (see _make_switcher)
            for option, langs in (("languages", self.languages), ("query_languages", self.query_languages),
                                  ("document_languages", self.document_languages)):
                if langs is not None and len(langs) > 1 and len(langs) != len(self.weights):
                    raise ValueError(f"method {self.name!r}: {len(self.weights)} weights for the "
                                     f"{len(langs)} {option} {list(langs)}; give one weight per language")
            if any(w < 0 for w in self.weights) or not sum(self.weights) > 0:
                raise ValueError(f"method {self.name!r}: weights must be >= 0 with a positive sum, "
                                 f"got {self.weights}")

    @classmethod
    def from_dict(cls, name: str, values: Mapping[str, Any]) -> Method:
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"method {name!r}: unknown option(s) {unknown}; known: {sorted(known)}")
        return cls(name=name, **dict(values))

    @property
    def trains(self) -> bool:
        """Whether this method fine-tunes a model (translate-test and off-the-shelf reuse one)."""
        return self.kind in ("zero-shot", "code-switch")

    def side_languages(self, side: str) -> list[str]:
        """Target languages of ``side`` (``"query"`` or ``"document"``); empty: left in English."""
        if self.kind not in ("code-switch", "rerank") or self.sides not in ("both", side):
            return []
        override = self.query_languages if side == "query" else self.document_languages
        return list(override if override is not None else self.languages)

    def p_at(self, step: int, total_steps: int) -> float:
        """Switch rate at optimizer step ``step`` (0-based): constant ``p``, or linear from
        ``p_start`` at step 0 to ``p`` at the last step."""
        if self.p_start is None or total_steps <= 1:
            return self.p
        return self.p_start + (self.p - self.p_start) * step / (total_steps - 1)


# ------------------------------------------------------------------------------------ lexicons
def lexicon_path(method: Method, src: str, tgt: str, data_dir: str | os.PathLike[str]) -> Path:
    """The dictionary file of ``src -> tgt`` for ``method`` (MUSE under ``data_dir`` or a template)."""
    if method.lexicon == "muse":
        path = Path(data_dir) / "muse" / f"{src}-{tgt}.txt"
    else:
        path = Path(method.lexicon.format(lang=tgt if src == "en" else src, src=src, tgt=tgt))
    if not path.exists():
        raise FileNotFoundError(f"method {method.name!r}: lexicon {src}->{tgt} not found at {path}")
    return path


def load_lexicons(method: Method, languages: Sequence[str], data_dir: str | os.PathLike[str], *,
                  reverse: bool = False) -> dict[str, Any]:
    """``{lang: Lexicon}`` for ``en -> lang`` (or ``lang -> en`` with ``reverse``)."""
    from xcs.lexicon import Lexicon

    out = {}
    for lang in languages:
        src, tgt = (lang, "en") if reverse else ("en", lang)
        out[lang] = Lexicon.load(lexicon_path(method, src, tgt, data_dir), src, tgt,
                                 lowercase=method.lowercase, drop_identical=True,
                                 max_candidates=method.max_candidates, on_error="skip")
    return out


# ------------------------------------------------------------------------------------ batching
def text_id(text: str) -> int:
    """A stable signed 63-bit id of a string (same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little") >> 1


def pad(sequences: Sequence[Sequence[int]], pad_id: int) -> Tokens:
    """Right-pad id lists into ``Tokens`` (int64 ``(n, max_len)`` ids and 0/1 mask)."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.long)
        mask[row, : len(seq)] = 1
    return Tokens(ids, mask)


class CodeSwitchBatchBuilder:
    """``xcs.train.BatchBuilder`` for every training method (zero-shot: no switcher on either side).

    Queries get ``query_prefix`` and documents ``passage_prefix`` (the mE5 convention) *after*
    switching. Hard negatives are switched like documents. Each side's switcher draws from
    ``(seed, epoch, example index)`` with a side-specific offset in the example index, so queries and
    documents of one example are switched independently.
    """

    def __init__(
        self,
        tokenizer: Any,
        method: Method,
        *,
        lexicons: Mapping[str, Any] | None = None,
        seed: int = 0,
        total_steps: int = 1,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        max_query_length: int = 64,
        max_document_length: int = 128,
        align: bool = False,
    ) -> None:
        self.tokenizer = tokenizer
        self.method = method
        self.total_steps = total_steps
        self.max_query_length = max_query_length
        self.max_document_length = max_document_length
        self.align = align
        self.pad_id = tokenizer.pad_token_id
        self.query_prefix_ids = self._prefix_ids(query_prefix)
        self.passage_prefix_ids = self._prefix_ids(passage_prefix)
        self.switchers = {}
        compiled: dict[str, Any] = {}  # each lexicon is compiled once, shared by both sides
        for side in ("query", "document"):
            langs = method.side_languages(side)
            if langs:
                missing = [lang for lang in langs if lexicons is None or lang not in lexicons]
                if missing:
                    raise ValueError(f"method {method.name!r}: no lexicon given for {missing}")
                for lang in langs:
                    if lang not in compiled:
                        lex = lexicons[lang]
                        compiled[lang] = lex.compile(tokenizer) if hasattr(lex, "compile") else lex
                self.switchers[side] = _make_switcher(tokenizer, {lang: compiled[lang] for lang in langs},
                                                      method, seed)

    def _prefix_ids(self, prefix: str) -> list[int]:
        return list(self.tokenizer(prefix.strip(), add_special_tokens=False)["input_ids"]) if prefix else []

    def _side(self, texts: Sequence[str], side: str, example_ids: np.ndarray, epoch: int, step: int,
              switch: bool = True) -> Tokens:
        """Tokenize (with <s> ... </s>), switch unless told not to, insert the prefix and pad."""
        prefix = self.query_prefix_ids if side == "query" else self.passage_prefix_ids
        limit = (self.max_query_length if side == "query" else self.max_document_length) - len(prefix)
        ids = self.tokenizer(list(texts), add_special_tokens=True, truncation=True,
                             max_length=limit)["input_ids"]
        switcher = self.switchers.get(side) if switch else None
        if switcher is not None:
            # queries and documents of one example draw independently: disjoint example-index ranges
            offset = 0 if side == "query" else DOCUMENT_INDEX_OFFSET
            ids = _switch(switcher, ids, example_ids.astype(np.int64) + offset, epoch,
                          self.method.p_at(step, self.total_steps), limit)
        return pad([list(s[:1]) + prefix + list(s[1:]) for s in ids], self.pad_id)

    def __call__(self, pairs: Sequence[TrainPair], negatives: Sequence[Sequence[str]],
                 example_ids: np.ndarray, epoch: int, step: int) -> TokenBatch:
        query_texts = [p.query for p in pairs]
        positives = [p.positive for p in pairs]
        flat_negatives = [s for row in negatives for s in row]
        k = len(flat_negatives) // max(1, len(pairs))
        # hard negative j of example i gets a draw index of its own, disjoint from the positives'
        draw_ids = example_ids.astype(np.int64)
        if k:
            negative_draws = (draw_ids[:, None] * 64 + 1 + np.arange(k)[None, :]).ravel() + (1 << 48)
            draw_ids = np.concatenate([draw_ids, negative_draws])
        queries = self._side(query_texts, "query", example_ids, epoch, step)
        documents = self._side(positives + flat_negatives, "document", draw_ids, epoch, step)
        query_originals = document_originals = None
        if self.align:
            query_originals = self._side(query_texts, "query", example_ids, epoch, step, switch=False)
            document_originals = self._side(positives, "document", example_ids, epoch, step, switch=False)
        ids = torch.tensor([text_id(t) for t in positives + flat_negatives], dtype=torch.long)
        return TokenBatch(queries, documents, ids, query_originals, document_originals)


# ------------------------------------------------------------------------------- engine adapter
def _make_switcher(tokenizer: Any, lexicons: Mapping[str, Any], method: Method, seed: int) -> Any:
    from xcs.codeswitch import CodeSwitcher

    mode = "bilingual" if len(lexicons) == 1 else "multilingual"
    kwargs: dict[str, Any] = {}
    if method.weights and mode == "multilingual":
        kwargs["language_weights"] = dict(zip(lexicons, method.weights, strict=True))
    return CodeSwitcher(tokenizer, dict(lexicons), p=method.p, mode=mode, seed=seed, **kwargs)


def _switch(switcher: Any, ids: Sequence[Sequence[int]], example_ids: np.ndarray, epoch: int, p: float,
            max_length: int) -> list[list[int]]:
    """Code-switch id lists (each ``<s> ... </s>``) at rate ``p``; returns new id lists."""
    switcher.p = float(p)  # a scheduled p changes per step; the engine reads it on every call
    return switcher(ids, example_indices=example_ids, epoch=epoch, max_length=max_length)


# ---------------------------------------------------------------------------------- translate-test
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class TranslateTestEncoder:
    """Translate-test baseline: every text is translated word by word into English with the union
    of the ``lang -> en`` lexicons (first candidate), then encoded by ``base``.

    The encoder interface carries no language, so an English text goes through the same lookup:
    words that are frequent English words (``wordfreq`` Zipf >= 4) are kept as they are, which
    protects English texts at the price of leaving e.g. German "die"/"was" untranslated. Languages
    written without spaces (zh, th) are looked up as whole runs, so most of their text stays as is.
    """

    def __init__(self, base: Any, reverse_lexicons: Mapping[str, Any], *, keep_zipf: float = 4.0) -> None:
        from wordfreq import zipf_frequency

        self.base = base
        self.tokenizer = getattr(base, "tokenizer", None)
        self.description = f"translate-test ({getattr(base, 'description', 'encoder')})"
        table: dict[str, str] = {}
        for lex in reverse_lexicons.values():
            for src, targets in lex.entries.items():
                if " " not in src and src not in table and zipf_frequency(src, "en") < keep_zipf:
                    table[src] = targets[0]
        self.table = table

    def translate(self, text: str) -> str:
        words = _WORD.findall(text)
        return " ".join(self.table.get(w.lower(), w) for w in words)

    def encode(self, texts: Sequence[str], kind: str | None = None, **kwargs: Any) -> np.ndarray:
        """Translate each text word by word into English, then embed it with the base encoder;
        returns float32 ``(n, d)`` (``kind`` and ``kwargs`` go to the base encoder)."""
        return self.base.encode([self.translate(t) for t in texts], kind=kind, **kwargs)
