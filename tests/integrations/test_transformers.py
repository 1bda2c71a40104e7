"""transformers.Trainer trains xcs's dual encoder on CodeSwitchCollator batches (real Trainer, CPU)."""

from __future__ import annotations

import warnings

import datasets
import pytest
import torch
from train_helpers import fresh_encoder
from transformers import Trainer, TrainingArguments

from xcs.integrations.transformers import CodeSwitchEpochCallback, DualEncoderForContrastiveTraining
from xcs.switching.collator import CodeSwitchCollator


def _trainer(tmp_path, model, dataset, collator, callbacks, max_steps):
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=max_steps,
                             per_device_train_batch_size=4, learning_rate=1e-3, report_to=[],
                             save_strategy="no", logging_steps=1, use_cpu=True, seed=0)
    return Trainer(model=model, args=args, train_dataset=dataset, data_collator=collator, callbacks=callbacks)


def test_trainer_trains_with_the_collator_and_default_arguments(tmp_path, tiny_model_dir, e5_tokenizer,
                                                                 switchers, pair_rows):
    dataset = datasets.Dataset.from_list(pair_rows[:8])
    collator = CodeSwitchCollator(e5_tokenizer, *switchers, max_query_length=32, max_document_length=32)
    encoder = fresh_encoder(tiny_model_dir)
    before = [p.detach().clone() for p in encoder.model.parameters()]
    model = DualEncoderForContrastiveTraining(encoder, temperature=0.1)
    trainer = _trainer(tmp_path, model, dataset, collator, [CodeSwitchEpochCallback(collator)], max_steps=2)
    result = trainer.train()  # remove_unused_columns keeps its default (True)
    assert result.global_step == 2 and torch.isfinite(torch.tensor(result.training_loss))
    assert any(not torch.equal(a, b) for a, b in zip(before, encoder.model.parameters(), strict=True))
    saved = model.save(tmp_path / "model")
    assert (saved / "config.json").exists()


def test_epoch_callback_gives_every_epoch_its_own_draws(tmp_path, tiny_model_dir, e5_tokenizer, switchers,
                                                        pair_rows):
    """2 epochs over an indexed dataset: with the callback nothing repeats; without it a warning."""
    dataset = datasets.Dataset.from_list([dict(row, index=i) for i, row in enumerate(pair_rows[:8])])
    for callbacks, expect_warning in ((True, False), (False, True)):
        collator = CodeSwitchCollator(e5_tokenizer, *switchers, max_query_length=32, max_document_length=32)
        model = DualEncoderForContrastiveTraining(fresh_encoder(tiny_model_dir))
        trainer = _trainer(tmp_path, model, dataset, collator,
                           [CodeSwitchEpochCallback(collator)] if callbacks else [], max_steps=4)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer.train()
        repeated = [w for w in caught if "collated twice" in str(w.message)]
        assert bool(repeated) == expect_warning
        assert collator.epoch == (1 if callbacks else 0)


def test_align_weight_needs_the_originals(tiny_model_dir, e5_tokenizer, switchers, pair_rows):
    model = DualEncoderForContrastiveTraining(fresh_encoder(tiny_model_dir), align_weight=0.5)
    plain = CodeSwitchCollator(e5_tokenizer, *switchers, max_query_length=32, max_document_length=32)
    with pytest.raises(ValueError, match="return_originals=True"):
        model(**plain(pair_rows[:4]))
    with_originals = CodeSwitchCollator(e5_tokenizer, *switchers, max_query_length=32, max_document_length=32,
                                        return_originals=True)
    assert torch.isfinite(model(**with_originals(pair_rows[:4]))["loss"])


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="collator must have set_epoch"):
        CodeSwitchEpochCallback(object())
    with pytest.raises(TypeError, match="encoder must be an xcs Encoder"):
        DualEncoderForContrastiveTraining(torch.nn.Linear(2, 2))
