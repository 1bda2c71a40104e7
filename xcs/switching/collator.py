"""``CodeSwitchCollator``: tokenize, code-switch and pad (query, document) pairs for training.

Usable as a Hugging Face ``data_collator`` or a torch ``DataLoader(collate_fn=...)``. As in the
paper, the query side and the document side are switched each by their own
:class:`~xcs.switching.switcher.CodeSwitcher` (e.g. queries into German, documents into Arabic); a side
without a switcher stays English.

The E5 prefixes (``"query: "``, ``"passage: "``) are added *after* switching, as token IDs right
after the opening special token, so the prefix words are never translated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.ragged import pad_rows
from xcs.switching.switcher import DOCUMENT_INDEX_OFFSET, CodeSwitcher
from xcs.switching.vocab import VocabTable, unit_start_mask

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class CodeSwitchCollator:
    """Collate ``[{"query": str, "document": str, "index": int?}, ...]`` into padded tensors.

    Returns a dict of ``torch.int64`` tensors: ``query_input_ids``, ``query_attention_mask``
    (``(batch, q_len)``), ``document_input_ids``, ``document_attention_mask``
    (``(batch, d_len)``), plus with ``return_provenance`` ``{side}_word_index``,
    ``{side}_language``, ``{side}_switched`` of the same shapes. Example ``i`` draws as
    ``feature["index"]`` when present (deterministic under shuffling and worker splits), else as
    the running count of examples this collator has seen; its document draws as that index plus
    :data:`~xcs.switching.switcher.DOCUMENT_INDEX_OFFSET`, so one switcher may serve both sides.

    Args:
        tokenizer: Hugging Face tokenizer (the switchers' tokenizer).
        query_switcher / document_switcher: switcher of each side, or None to leave it as is.
        query_max_length / document_max_length: output lengths, prefix and special tokens included.
        query_prefix / passage_prefix: E5 prefixes ("" for none).
        return_provenance: also return the provenance arrays.
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        query_switcher: CodeSwitcher | None = None,
        document_switcher: CodeSwitcher | None = None,
        *,
        query_key: str = "query",
        document_key: str = "document",
        index_key: str = "index",
        query_max_length: int = 64,
        document_max_length: int = 256,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        return_provenance: bool = False,
    ):
        self.tokenizer = tokenizer
        self.sides = {
            "query": _Side(tokenizer, query_switcher, query_key, query_max_length, query_prefix),
            "document": _Side(
                tokenizer, document_switcher, document_key, document_max_length, passage_prefix
            ),
        }
        self.index_key = index_key
        self.return_provenance = return_provenance
        self.seen = 0

    def set_epoch(self, epoch: int) -> None:
        for side in self.sides.values():
            if side.switcher is not None:
                side.switcher.set_epoch(epoch)

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        if not features:
            raise ValueError("CodeSwitchCollator got an empty list of features")
        if all(self.index_key in f for f in features):
            indices = np.asarray([int(f[self.index_key]) for f in features], dtype=np.int64)
        else:
            indices = np.arange(self.seen, self.seen + len(features), dtype=np.int64)
        self.seen += len(features)
        batch: dict[str, Any] = {}
        for name, side in self.sides.items():
            offset = DOCUMENT_INDEX_OFFSET if name == "document" else 0
            arrays = side.encode(features, indices + offset, self.return_provenance)
            for key, value in arrays.items():
                batch[f"{name}_{key}"] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.int64))
        return batch


class _Side:
    """Tokenization, switching and padding of one side (query or document)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, switcher: CodeSwitcher | None, key: str,
                 max_length: int, prefix: str):
        self.tokenizer = tokenizer
        self.switcher = switcher
        self.key = key
        self.max_length = max_length
        self.prefix_ids: list[int] = (
            tokenizer(prefix.strip(), add_special_tokens=False)["input_ids"] if prefix.strip() else []
        )
        if len(self.prefix_ids) + 2 > max_length:
            raise ValueError(f"max_length={max_length} leaves no room for a word after prefix {prefix!r} "
                             "and the special tokens")
        pad = tokenizer.pad_token_id
        self.pad_id = 0 if pad is None else int(pad)
        self.special = set(tokenizer.all_special_ids)

    def encode(self, features: Sequence[Mapping[str, Any]], indices: np.ndarray,
               provenance: bool) -> dict[str, np.ndarray]:
        try:
            texts = [str(f[self.key]) for f in features]
        except KeyError:
            raise KeyError(f"every feature needs the key {self.key!r}") from None
        body_length = self.max_length - len(self.prefix_ids)
        # Tokenize generously (switching changes lengths), truncate exactly after switching.
        ids = self.tokenizer(texts, truncation=True, max_length=4 * body_length)["input_ids"]
        if self.switcher is not None:
            out = self.switcher(ids, example_indices=indices, max_length=body_length,
                                return_provenance=provenance)
            ids = out["input_ids"] if provenance else out
        else:
            ids = [self._truncate(row, body_length) for row in ids]
            out = None
        # the prefix goes right after an opening special token (<s>), else first; its provenance
        # is that of no original token
        splits = [1 if row and row[0] in self.special else 0 for row in ids]

        def with_prefix(rows: Sequence[list[int]], inserted: list[int]) -> list[list[int]]:
            return [row[:k] + inserted + row[k:] for row, k in zip(rows, splits, strict=True)]

        input_ids, mask = pad_rows(with_prefix(ids, self.prefix_ids), self.pad_id)
        result = {"input_ids": input_ids, "attention_mask": mask}
        if provenance:
            for name, fill in (("word_index", -1), ("language", -1), ("switched", 0)):
                values = out[name] if out is not None else [self._unswitched(name, row) for row in ids]
                result[name] = pad_rows(with_prefix(values, [fill] * len(self.prefix_ids)), fill)[0]
        return result

    def _truncate(self, row: list[int], length: int) -> list[int]:
        """The engine's truncation rule: keep a closing special token."""
        if len(row) <= length:
            return row
        return row[: length - 1] + row[-1:] if row[-1] in self.special else row[:length]

    def _unswitched(self, name: str, row: list[int]) -> list[int]:
        """Provenance of a side without switcher: every token original, word units as the engine's."""
        if name == "word_index":
            table = VocabTable.for_tokenizer(self.tokenizer).token_class
            starts = unit_start_mask(table, np.asarray(row), np.array([0, len(row)]))
            return (np.cumsum(starts) - 1).tolist()
        return [-1] * len(row) if name == "language" else [0] * len(row)
