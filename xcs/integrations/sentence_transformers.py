"""``SentenceTransformerTrainer`` with xcs: code-switch chosen dataset columns on their token ids, and
evaluate on XTREME-R inside training::

    model = SentenceTransformer(path)  # e.g. written by `xcs model convert` or Encoder.save
    collator = CodeSwitchDataCollator(model, {"anchor": query_switcher, "positive": document_switcher})
    trainer = SentenceTransformerTrainer(
        model=model, train_dataset=dataset, loss=MultipleNegativesRankingLoss(model),
        data_collator=collator, evaluator=XtremeREvaluator(subsample=100),
        callbacks=[CodeSwitchEpochCallback(collator)])
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from xcs.evaluation.protocol import ALL_TASKS
from xcs.evaluation.report import headline_metrics
from xcs.evaluation.suite import evaluate
from xcs.switching.arguments import check_texts
from xcs.switching.draws import DrawIndex
from xcs.switching.switcher import DOCUMENT_INDEX_OFFSET, CodeSwitcher
from xcs.switching.switching_tokenizer import SwitchingTokenizer


class CodeSwitchDataCollator(SentenceTransformerDataCollator):
    """sentence-transformers' data collator, with the columns named in ``switchers`` code-switched.

    A switched column is tokenized without its prompt, code-switched on its token ids, then gets the
    prompt's ids right after the opening special token (so the prompt is never translated), and is
    truncated to the model's ``max_seq_length``. Other text columns are tokenized unchanged, exactly
    as sentence-transformers does. Row ``i`` of column ``k`` (k-th text column) draws as example
    ``index + k * DOCUMENT_INDEX_OFFSET``: the index column's value when the dataset has one (the
    column is consumed, not tokenized), else a running count that never repeats across DataLoader
    workers or epochs (see :mod:`xcs.switching.draws`); a switcher's per-example draws
    (``language_per="example"``, ``example_p``) come from ``index``, alike for a row's columns. Use
    :class:`xcs.integrations.transformers.CodeSwitchEpochCallback` for a new pattern every epoch.

    Args:
        model: the SentenceTransformer being trained (its tokenizer, prompts and ``max_seq_length``).
        switchers: dataset column name -> :class:`CodeSwitcher` (built for ``model.tokenizer``).
        prompts: ``None``: the model's own prompts, ``model.prompts["query"]`` on the first text
            column and ``model.prompts["document"]`` on the others (an E5 model saved by xcs has
            ``"query: "`` / ``"passage: "``); else as ``SentenceTransformerTrainingArguments.prompts``
            (one string for every column, or column name -> prompt; ``{}`` for none).
        index_column: the dataset column holding example indices, if any.
        valid_label_columns: label columns, as sentence-transformers' collator.
    """

    def __init__(self, model: SentenceTransformer, switchers: Mapping[str, CodeSwitcher], *,
                 prompts: str | Mapping[str, str] | None = None, index_column: str = "index",
                 valid_label_columns: Sequence[str] | None = None) -> None:
        kwargs = {} if valid_label_columns is None else {"valid_label_columns": list(valid_label_columns)}
        super().__init__(preprocess_fn=model.preprocess, prompts=dict(prompts) if isinstance(prompts, Mapping)
                         else prompts or {}, **kwargs)
        for column, switcher in switchers.items():
            if not isinstance(switcher, CodeSwitcher):
                raise TypeError(f"switchers[{column!r}] must be a CodeSwitcher, "
                                f"got {type(switcher).__name__}")
        self.model = model
        self.switchers = dict(switchers)
        self.use_model_prompts = prompts is None
        self.draws = DrawIndex(index_column)
        self._tokenizers: dict[tuple[str, str], SwitchingTokenizer] = {}

    @property
    def epoch(self) -> int:
        return self.draws.epoch

    def set_epoch(self, epoch: int) -> None:
        """Later batches draw with ``epoch`` (also in DataLoader workers)."""
        self.draws.set_epoch(epoch)

    def _prompt(self, prompts: Any, column: str, position: int) -> str:
        if self.use_model_prompts:
            return self.model.prompts.get("query" if position == 0 else "document") or ""
        return self._get_prompt_for_column(prompts, column) or ""

    def _switched(self, column: str, texts: list[Any], prompt: str, draws: np.ndarray,
                  pairs: np.ndarray) -> dict[str, Any]:
        """The preprocessed features of one switched column (the keys ``model.preprocess`` gives);
        row ``i`` draws as ``draws[i]``, its per-example draws (language, switched at all) from
        ``pairs[i]``."""
        key = (column, prompt)
        if key not in self._tokenizers:
            self._tokenizers[key] = SwitchingTokenizer(self.model.tokenizer, self.switchers[column],
                                                       max_length=self.model.max_seq_length, prompt=prompt)
        side = self._tokenizers[key]
        encoded = side(texts, draws, epoch=self.epoch, pair_indices=pairs)
        out: dict[str, Any] = {name: torch.from_numpy(value) for name, value in encoded.items()}
        out["modality"] = "text"
        if side.prompt_ids:
            out["prompt_length"] = 1 + len(side.prompt_ids)  # <s> and the prompt precede the text
        return out

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        if not features:
            return {}
        unknown = sorted(set(self.switchers) - set(features[0]))
        if unknown:
            raise KeyError(f"switchers name column(s) {unknown} that the dataset lacks (columns: "
                           f"{sorted(features[0])})")
        columns = [c for c in features[0] if c not in ("dataset_name", self.draws.index_key)]
        batch: dict[str, Any] = {}
        if "dataset_name" in features[0]:
            batch["dataset_name"] = features[0]["dataset_name"]
        indices = self.draws.indices(features)
        label = next((c for c in self.valid_label_columns if c in columns), None)
        if label is not None:
            labels = [row[label] for row in features]
            stack = torch.stack if isinstance(labels[0], torch.Tensor) else torch.tensor
            batch["label"] = stack(labels)
            columns.remove(label)
        prompts = self._resolve_prompts(batch)
        for position, column in enumerate(columns):
            texts = [row[column] for row in features]
            prompt = self._prompt(prompts, column, position)
            if column in self.switchers:
                # the row's columns share their per-example draws (language, switched at all)
                preprocessed = self._switched(column, check_texts(texts, repr(column)), prompt,
                                              indices + position * DOCUMENT_INDEX_OFFSET, indices)
            else:
                preprocessed = self.preprocess_fn(texts, prompt=prompt or None)
            for key, value in preprocessed.items():
                batch[f"{column}_{key}"] = value
        return batch


class XtremeREvaluator(SentenceEvaluator):
    """Runs the xcs evaluation suite (XQuAD-R MoIR / CLIR / MLIR / LAReQA, Tatoeba) on the model being
    trained; returns the headline metrics (values in [0, 1]) with ``primary_metric`` (default
    ``"CLIR"``) for the trainer's best-model selection.

    Args:
        tasks: the suite's task names (default all).
        data_dir: the shared data directory (default :func:`xcs.io.paths.data_dir`).
        subsample: questions (and Tatoeba pairs) per language for a quick in-training check; None
            evaluates on the full data.
        seed: the subsample's seed.
        languages: XQuAD-R languages (default all).
        primary_metric: a key of :func:`xcs.evaluation.report.headline_metrics`.
        name: prefix of the returned keys.
    """

    def __init__(self, tasks: str | Sequence[str] = ALL_TASKS, *,
                 data_dir: str | os.PathLike[str] | None = None,
                 subsample: int | None = 100, seed: int = 0, languages: Sequence[str] | None = None,
                 primary_metric: str = "CLIR", name: str = "xtreme-r") -> None:
        super().__init__()
        self.tasks = tasks
        self.data_dir = data_dir
        self.subsample = subsample
        self.seed = seed
        self.languages = languages
        self.headline_metric = primary_metric
        self.primary_metric = primary_metric  # prefixed with the name by prefix_name_to_metrics
        self.name = name

    def __call__(self, model: SentenceTransformer, output_path: str | None = None, epoch: int = -1,
                 steps: int = -1) -> dict[str, float]:
        metrics = evaluate(model, self.tasks, self.data_dir, output_path, languages=self.languages,
                           subsample=self.subsample, seed=self.seed)
        headline = headline_metrics(metrics)
        if self.headline_metric not in headline:
            raise ValueError(f"primary_metric {self.headline_metric!r} is not among the metrics of tasks "
                             f"{self.tasks!r}: {sorted(headline)}")
        scores = self.prefix_name_to_metrics(headline, self.name)
        self.store_metrics_in_model_card_data(model, scores, epoch, steps)
        return scores

    def get_config_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "subsample": self.subsample, "seed": self.seed}
