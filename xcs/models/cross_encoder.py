"""Cross-encoder (the paper's reranker): a transformer encoder reading ``<s> query: Q </s> passage: D
</s>`` (the mE5 prefixes kept, so it starts from the same checkpoint as the dual encoder) and a linear
head on the first token that scores the pair."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from xcs.models.checkpoints import resolve_model_path
from xcs.ragged import pad_rows


class CrossEncoder(nn.Module):
    """A transformer encoder plus a linear head: ``forward(ids, mask) -> logits`` float32 ``(n,)``."""

    def __init__(self, model: str | os.PathLike[str] = "default", max_length: int = 192, *,
                 seed: int = 0, device: str | torch.device | None = None) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model_path(model)
        self.encoder = AutoModel.from_pretrained(str(path), add_pooling_layer=False)
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.head = nn.Linear(self.encoder.config.hidden_size, 1)
        # The head's init comes from its own generator, not the global RNG, so it depends on
        # ``seed`` only (not on what ran before); N(0, 0.02) weights and a zero bias, as HF heads.
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.head.weight.normal_(0.0, 0.02, generator=generator)
            self.head.bias.zero_()
        self.max_length = max_length
        self.to(device if device is not None else "cpu")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        device = self.head.weight.device  # callers pass CPU ids; the model may sit on a GPU
        hidden = self.encoder(input_ids=input_ids.to(device),
                              attention_mask=attention_mask.to(device)).last_hidden_state
        return self.head(hidden[:, 0].float()).squeeze(-1)

    def join(self, query_ids: Sequence[int], document_ids: Sequence[int]) -> list[int]:
        """``<s> q </s>`` + ``d </s>`` (the document's ``<s>`` dropped), cut to ``max_length`` keeping
        the closing token."""
        joined = list(query_ids) + list(document_ids[1:])
        return joined if len(joined) <= self.max_length else joined[: self.max_length - 1] + joined[-1:]

    def pad(self, sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad id lists with the tokenizer's pad id: ``(input_ids, attention_mask)``, both
        int64 ``(n, L)`` with ``L`` the longest sequence."""
        input_ids, attention_mask = pad_rows(sequences, self.tokenizer.pad_token_id)
        return torch.from_numpy(input_ids), torch.from_numpy(attention_mask)

    @torch.inference_mode()
    def score(self, queries: Sequence[str], documents: Sequence[str], *, query_prefix: str = "query: ",
              passage_prefix: str = "passage: ", batch_size: int = 64) -> np.ndarray:
        """Relevance logits (float32 ``(n,)``) of the pairs ``(queries[i], documents[i])``."""
        tok = self.tokenizer
        q = tok([query_prefix + t for t in queries], truncation=True, max_length=64)["input_ids"]
        d = tok([passage_prefix + t for t in documents], truncation=True,
                max_length=self.max_length)["input_ids"]
        joined = [self.join(a, b) for a, b in zip(q, d, strict=True)]
        order = np.argsort([len(s) for s in joined], kind="stable")
        out = np.empty(len(joined), dtype=np.float32)
        was_training = self.training
        self.eval()
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            ids, mask = self.pad([joined[i] for i in rows])
            out[rows] = self(ids, mask).float().cpu().numpy()
        self.train(was_training)
        return out
