"""``CodeSwitchCollator``: tokenize, code-switch and pad (query, document, hard negatives) examples.

The one batching path of xcs: ``xcs train`` and ``xcs experiment`` build their batches with it (through
:class:`xcs.training.collated.CollatorBatchBuilder`), and it is usable as a Hugging Face
``data_collator`` or a torch ``DataLoader(collate_fn=...)``. As in the paper, the query side and the
document side are switched each by their own :class:`~xcs.switching.switcher.CodeSwitcher` (e.g.
queries into German, documents into Arabic); a side without a switcher stays English. Hard negatives
are switched like documents.

The E5 prefixes (``"query: "``, ``"passage: "``) are added *after* switching, as token IDs right
after the opening special token, so the prefix words are never translated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.data.options import MAX_DOCUMENT_LENGTH, MAX_QUERY_LENGTH
from xcs.deprecation import renamed_keywords
from xcs.switching.arguments import check_texts
from xcs.switching.draws import DrawIndex
from xcs.switching.switcher import DOCUMENT_INDEX_OFFSET, CodeSwitcher
from xcs.switching.switching_tokenizer import SwitchingTokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# Hard negative j of example i draws as DOCUMENT_INDEX_OFFSET + NEGATIVE_INDEX_BASE + 64 i + 1 + j:
# disjoint from every positive's draw (which stays below 2 * DOCUMENT_INDEX_OFFSET).
NEGATIVE_INDEX_BASE = 1 << 48
MAX_NEGATIVES = 63


def text_id(text: str) -> int:
    """A stable signed 63-bit id of a string (same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little") >> 1


def document_draw_indices(indices: np.ndarray, num_negatives: int) -> np.ndarray:
    """int64 ``(B + B * H,)`` draw indices of the positives then the hard negatives of examples
    ``indices`` (int64 ``(B,)``), in the collator's document row order."""
    negatives = (indices[:, None] * 64 + 1 + np.arange(num_negatives)[None, :]).ravel() + NEGATIVE_INDEX_BASE
    return np.concatenate([indices, negatives]) + DOCUMENT_INDEX_OFFSET


class WrongCollatorError(TypeError, AttributeError):
    """:class:`CodeSwitchCollator` was given to sentence-transformers, whose trainer needs
    :class:`xcs.integrations.sentence_transformers.CodeSwitchDataCollator` (an AttributeError too, so
    that ``hasattr`` probes still answer False)."""


_SENTENCE_TRANSFORMERS_HINT = (
    "xcs.CodeSwitchCollator builds xcs's own (query, document) batches for xcs train, a plain DataLoader "
    "or transformers' Trainer with DualEncoderForContrastiveTraining; sentence-transformers' "
    "SentenceTransformerTrainer needs xcs.integrations.sentence_transformers.CodeSwitchDataCollator"
    "(model, {column: switcher}) instead (see docs/recipes.md)")


class _SentenceTransformersAttribute:
    """A class attribute that sentence-transformers' trainer reads from its data collator
    (``valid_label_columns``): reading it, on the class or an instance, raises
    :class:`WrongCollatorError` naming the collator to use."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise WrongCollatorError(f"{_SENTENCE_TRANSFORMERS_HINT} (sentence-transformers read .{self.name})")


class CodeSwitchCollator:
    """Collate ``[{"query": str, "document": str, "negatives": [str, ...]?, "index": int?}, ...]``.

    Returns a dict of ``torch.int64`` tensors:

    - ``query_input_ids``, ``query_attention_mask``: ``(B, q_len)``;
    - ``document_input_ids``, ``document_attention_mask``: ``(B + B * H, d_len)``, the ``B``
      positives first, then the ``H`` hard negatives of each example (negative ``j`` of example
      ``i`` at row ``B + i * H + j``); every feature has the same number ``H`` of negatives;
    - ``document_ids``: ``(B + B * H,)``, a stable id of each document's text (a duplicate of a
      positive elsewhere in the batch is then not a negative);
    - with ``return_originals``: ``query_original_*`` and ``document_original_*`` (positives only),
      the same texts unswitched, for an alignment term;
    - with ``return_provenance``: ``{side}_word_index``, ``{side}_language``, ``{side}_switched``.

    Example ``i`` draws as ``feature["index"]`` when every feature has one (deterministic under
    shuffling and worker splits; call :meth:`set_epoch` every epoch, else a warning says that
    switches repeat), else as a per-process running count that never repeats across DataLoader
    workers or epochs (see :mod:`xcs.switching.draws`). Its document draws are offset by
    :data:`~xcs.switching.switcher.DOCUMENT_INDEX_OFFSET`, so one switcher may serve both sides.

    Args:
        tokenizer: Hugging Face tokenizer (the switchers' tokenizer).
        query_switcher / document_switcher: switcher of each side, or None to leave it as is.
        query_key / document_key / negatives_key / index_key: the feature keys.
        max_query_length / max_document_length: output lengths, prefix and special tokens included.
        query_prefix / passage_prefix: E5 prefixes ("" for none).
        return_provenance: also return the provenance arrays.
        return_originals: also return the unswitched queries and positives.
    """

    # the lengths are spelled as in [data] / DataOptions since issue 24
    @renamed_keywords({"query_max_length": "max_query_length", "document_max_length": "max_document_length"})
    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        query_switcher: CodeSwitcher | None = None,
        document_switcher: CodeSwitcher | None = None,
        *,
        query_key: str = "query",
        document_key: str = "document",
        negatives_key: str = "negatives",
        index_key: str = "index",
        max_query_length: int = MAX_QUERY_LENGTH,
        max_document_length: int = MAX_DOCUMENT_LENGTH,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        return_provenance: bool = False,
        return_originals: bool = False,
    ):
        if isinstance(tokenizer, (list, tuple)):  # the class itself used as a collate_fn
            raise TypeError("CodeSwitchCollator(tokenizer, ...) was called with a batch of features: pass "
                            "an instance, CodeSwitchCollator(tokenizer, query_switcher=..., ...), as the "
                            "collate_fn / data_collator, not the class")
        for name, switcher in (("query_switcher", query_switcher), ("document_switcher", document_switcher)):
            if switcher is not None and not isinstance(switcher, CodeSwitcher):
                raise TypeError(f"{name} must be a CodeSwitcher or None, got {type(switcher).__name__}")
        self.tokenizer = tokenizer
        self.sides = {
            "query": SwitchingTokenizer(tokenizer, query_switcher, max_length=max_query_length,
                                        prompt=query_prefix),
            "document": SwitchingTokenizer(tokenizer, document_switcher, max_length=max_document_length,
                                           prompt=passage_prefix),
        }
        self.keys = {"query": query_key, "document": document_key, "negatives": negatives_key}
        self.draws = DrawIndex(index_key)
        self.return_provenance = return_provenance
        self.return_originals = return_originals

    # sentence-transformers' trainer reads this from its data collator: a clear error naming
    # CodeSwitchDataCollator instead of "no attribute 'valid_label_columns'"
    valid_label_columns = _SentenceTransformersAttribute()

    @property
    def epoch(self) -> int:
        return self.draws.epoch

    def set_epoch(self, epoch: int) -> None:
        """Later batches draw with ``epoch`` (also in DataLoader workers, persistent or not)."""
        self.draws.set_epoch(epoch)

    def set_p(self, p: float) -> None:
        """Switch rate of both sides' switchers from now on (a scheduled p changes per step)."""
        for side in self.sides.values():
            if side.switcher is not None:
                side.switcher.p = p

    def __call__(self, features: Sequence[Mapping[str, Any]], *, epoch: int | None = None) -> dict[str, Any]:
        """Collate ``features`` (see the class docstring); ``epoch`` overrides :attr:`epoch`."""
        if not features:
            raise ValueError("CodeSwitchCollator got an empty list of features")
        for i, feature in enumerate(features):
            if not isinstance(feature, Mapping):
                raise TypeError(f"feature {i} must be a mapping (dict), got {type(feature).__name__}")
        columns = {name: self._column(features, name) for name in ("query", "document")}
        negatives = self._negatives(features)
        return self.collate(columns["query"], columns["document"], negatives, self.draws.indices(features),
                            epoch=self.epoch if epoch is None else epoch)

    def collate(self, queries: Sequence[str], documents: Sequence[str], negatives: Sequence[Sequence[str]],
                indices: np.ndarray, *, epoch: int) -> dict[str, Any]:
        """Collate columns directly: ``B`` queries and positives, ``B`` lists of ``H`` hard negatives,
        int64 ``(B,)`` example indices and the epoch (what :meth:`__call__` does after reading the
        features)."""
        import torch

        negatives_key = repr(self.keys["negatives"])
        queries = check_texts(queries, repr(self.keys["query"]))
        documents = check_texts(documents, repr(self.keys["document"]))
        flat_negatives = check_texts([text for row in negatives for text in row], negatives_key)
        counts = {len(row) for row in negatives}
        if len(negatives) != len(queries) or len(counts) > 1:
            raise ValueError(f"need one list of {negatives_key} per example, all of one length; got "
                             f"{len(negatives)} of lengths {sorted(counts)} for {len(queries)} queries")
        num_negatives = counts.pop() if counts else 0
        if num_negatives > MAX_NEGATIVES:
            raise ValueError(f"at most {MAX_NEGATIVES} {negatives_key} per example, got {num_negatives}")
        indices = np.asarray(indices, dtype=np.int64)
        all_documents = documents + flat_negatives
        # per-example draws (language, switched at all) are the pair's: its query and documents alike
        sides = {"query": (queries, indices, indices),
                 "document": (all_documents, document_draw_indices(indices, num_negatives),
                              np.concatenate([indices, np.repeat(indices, num_negatives)]))}
        batch: dict[str, Any] = {}
        for name, (texts, draws, pairs) in sides.items():
            side = self.sides[name]
            ids = side.tokenize(texts)  # once: the originals are the same ids, unswitched
            outputs = {name: side.encode(ids, draws, epoch=epoch, provenance=self.return_provenance,
                                         pair_indices=pairs)}
            if self.return_originals:  # the queries and the positives (the first B documents)
                outputs[f"{name}_original"] = side.encode(ids[:len(queries)], indices, epoch=epoch,
                                                          switch=False)
            for prefix, encoded in outputs.items():
                for key, value in encoded.items():
                    batch[f"{prefix}_{key}"] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.int64))
        batch["document_ids"] = torch.tensor([text_id(t) for t in all_documents], dtype=torch.int64)
        return batch

    def _column(self, features: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
        key = self.keys[name]
        try:
            return [f[key] for f in features]
        except KeyError:
            keys = sorted(next(f for f in features if key not in f))
            raise KeyError(
                f"every feature needs the key {key!r} (a feature has {keys}); under transformers.Trainer "
                "keep the column (see xcs.integrations.transformers) or set remove_unused_columns=False"
            ) from None

    def _negatives(self, features: Sequence[Mapping[str, Any]]) -> list[list[str]]:
        key = self.keys["negatives"]
        if not any(key in f for f in features):
            return [[] for _ in features]
        rows = []
        for i, f in enumerate(features):
            row = f.get(key)
            if isinstance(row, str) or not isinstance(row, Sequence):
                raise TypeError(f"feature {i}: {key!r} must be a list of strings, got {type(row).__name__}")
            rows.append(list(row))
        return rows
