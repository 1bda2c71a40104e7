"""The batches every training method feeds ``xcs.training.loop.train``: tokenized, code-switched on
the method's sides (the mE5 prefixes added after switching, so never translated), padded."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from xcs.experiment.methods import Method
from xcs.ragged import pad_rows
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import DOCUMENT_INDEX_OFFSET, CodeSwitcher
from xcs.training.batch import TokenBatch, Tokens, TrainPair


def text_id(text: str) -> int:
    """A stable signed 63-bit id of a string (same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little") >> 1


def pad(sequences: Sequence[Sequence[int]], pad_id: int) -> Tokens:
    """Right-pad id lists into ``Tokens`` (int64 ``(n, max_len)`` ids and 0/1 mask)."""
    input_ids, attention_mask = pad_rows(sequences, pad_id)
    return Tokens(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))


class CodeSwitchBatchBuilder:
    """``xcs.training.loop.BatchBuilder`` for every training method (zero-shot: no switcher on either side).

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
                        compiled[lang] = (lex if isinstance(lex, CompiledLexicon)
                                          else CompiledLexicon.compile(lex, tokenizer))
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


def _make_switcher(tokenizer: Any, lexicons: Mapping[str, Any], method: Method, seed: int) -> Any:
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
