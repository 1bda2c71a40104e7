"""``SwitchingTokenizer``: texts -> padded token ids, code-switched, with a prompt that is never switched.

The one path from text to a training batch that every collator shares (xcs's own and the
sentence-transformers one): tokenize generously (switching changes lengths), code-switch the token
ids, insert the prompt's ids right after the opening special token, truncate exactly to
``max_length`` (keeping a closing special token) and pad.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from xcs.ragged import pad_rows
from xcs.switching.switcher import CodeSwitcher
from xcs.switching.vocab import VocabTable, unit_start_mask

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PROVENANCE_FILL = {"word_index": -1, "language": -1, "switched": 0}


class SwitchingTokenizer:
    """Tokenize, code-switch, prompt and pad one column of texts.

    Args:
        tokenizer: Hugging Face tokenizer (the switcher's).
        switcher: code-switcher of this column, or None to leave the texts as they are.
        max_length: output length, prompt and special tokens included.
        prompt: text whose token ids go right after the opening special token ("" for none); e.g.
            the E5 prefix ``"query: "``.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, switcher: CodeSwitcher | None, *,
                 max_length: int, prompt: str = "") -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral):
            raise TypeError(f"max_length must be an int, got {type(max_length).__name__} {max_length!r}")
        self.tokenizer = tokenizer
        self.switcher = switcher
        self.max_length = int(max_length)
        self.prompt_ids: list[int] = (
            tokenizer(prompt.strip(), add_special_tokens=False)["input_ids"] if prompt.strip() else [])
        if len(self.prompt_ids) + 2 > max_length:
            raise ValueError(f"max_length={max_length} leaves no room for a word after the prompt {prompt!r} "
                             "and the special tokens")
        pad = tokenizer.pad_token_id
        self.pad_id = 0 if pad is None else int(pad)
        self.special = set(tokenizer.all_special_ids)

    @property
    def body_length(self) -> int:
        """Tokens left for the text itself (special tokens included) after the prompt."""
        return self.max_length - len(self.prompt_ids)

    def __call__(self, texts: Sequence[str], draw_indices: np.ndarray, *, epoch: int, switch: bool = True,
                 provenance: bool = False,
                 pair_indices: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """:meth:`encode` of :meth:`tokenize` of ``texts``."""
        return self.encode(self.tokenize(texts), draw_indices, epoch=epoch, switch=switch,
                           provenance=provenance, pair_indices=pair_indices)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of ``texts`` with their special tokens, generously truncated (switching changes
        lengths; :meth:`encode` truncates exactly)."""
        return self.tokenizer(list(texts), truncation=True, max_length=4 * self.body_length)["input_ids"]

    def encode(self, ids: list[list[int]], draw_indices: np.ndarray, *, epoch: int, switch: bool = True,
               provenance: bool = False, pair_indices: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """int64 ``(n, L)`` ``input_ids`` and ``attention_mask`` of tokenized rows (:meth:`tokenize`);
        with ``provenance`` also ``word_index``, ``language`` and ``switched`` (see
        :meth:`CodeSwitcher.switch_flat`; the prompt's tokens count as original). Row ``i`` draws as
        example ``draw_indices[i]`` at ``epoch`` (its per-example draws, see
        :meth:`CodeSwitcher.switch_flat`, from ``pair_indices[i]``, default the same);
        ``switch=False`` gives the rows unswitched (e.g. the originals of an alignment term, from the
        same ids)."""
        switched = None
        if self.switcher is not None and switch:
            switched = self.switcher(ids, example_indices=draw_indices, epoch=epoch,
                                     max_length=self.body_length, return_provenance=provenance,
                                     pair_indices=pair_indices)
            ids = switched["input_ids"] if provenance else switched
        else:
            ids = [self._truncate(row) for row in ids]
        # the prompt goes right after an opening special token (<s>), else first
        splits = [1 if row and row[0] in self.special else 0 for row in ids]

        def with_prompt(rows: Sequence[list[int]], inserted: list[int]) -> list[list[int]]:
            return [row[:k] + inserted + row[k:] for row, k in zip(rows, splits, strict=True)]

        input_ids, mask = pad_rows(with_prompt(ids, self.prompt_ids), self.pad_id)
        result = {"input_ids": input_ids, "attention_mask": mask}
        if provenance:
            for name, fill in PROVENANCE_FILL.items():
                values = (switched[name] if isinstance(switched, dict)
                          else [self._unswitched(name, row) for row in ids])
                result[name] = pad_rows(with_prompt(values, [fill] * len(self.prompt_ids)), fill)[0]
        return result

    def _truncate(self, row: list[int]) -> list[int]:
        """The engine's truncation rule: keep a closing special token."""
        length = self.body_length
        if len(row) <= length:
            return row
        return row[: length - 1] + row[-1:] if row[-1] in self.special else row[:length]

    def _unswitched(self, name: str, row: list[int]) -> list[int]:
        """Provenance of unswitched text: every token original, word units as the engine's."""
        if name == "word_index":
            table = VocabTable.for_tokenizer(self.tokenizer).token_class
            starts = unit_start_mask(table, np.asarray(row), np.array([0, len(row)]))
            return (np.cumsum(starts) - 1).tolist()
        return [-1] * len(row) if name == "language" else [0] * len(row)
