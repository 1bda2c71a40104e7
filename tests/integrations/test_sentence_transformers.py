"""SentenceTransformerTrainer with xcs's data collator and evaluator (real sentence-transformers, CPU)."""

from __future__ import annotations

import datasets
import pytest
import torch
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

from xcs.integrations.sentence_transformers import CodeSwitchDataCollator
from xcs.integrations.transformers import CodeSwitchEpochCallback

PROMPTS = {"query": "query: ", "document": "passage: "}


@pytest.fixture
def st_model(tiny_model_dir):
    model = SentenceTransformer(str(tiny_model_dir), device="cpu", prompts=PROMPTS)
    model.max_seq_length = 24
    return model


def _rows(pair_rows, n=8):
    return [{"anchor": r["query"], "positive": r["document"]} for r in pair_rows[:n]]


def _decode(tokenizer, ids):
    return tokenizer.batch_decode(ids, skip_special_tokens=True)


def test_switched_columns_keep_prompts_and_max_seq_length(st_model, switchers, pair_rows):
    collator = CodeSwitchDataCollator(st_model, {"anchor": switchers[0]})
    rows = [dict(r, positive=r["positive"] + " and many more words" * 8) for r in _rows(pair_rows, 4)]
    batch = collator(rows)
    anchors = _decode(st_model.tokenizer, batch["anchor_input_ids"])
    assert all(a.startswith("query: ") for a in anchors)  # the prompt is never switched
    assert any(w in " ".join(anchors) for w in ("was", "über", "die", "nummer"))
    assert batch["anchor_input_ids"].shape[1] <= 24 and batch["positive_input_ids"].shape[1] == 24
    # the unswitched column is exactly what sentence-transformers makes of it
    reference = st_model.preprocess([r["positive"] for r in rows], prompt="passage: ")
    assert torch.equal(batch["positive_input_ids"], reference["input_ids"])
    assert batch["anchor_prompt_length"] == 1 + len(st_model.tokenizer("query:", add_special_tokens=False)
                                                     ["input_ids"])
    with pytest.raises(KeyError, match=r"\['question'\]"):
        CodeSwitchDataCollator(st_model, {"question": switchers[0]})(rows)
    with pytest.raises(TypeError, match=r"'anchor': row 0 must be a string"):
        collator([{"anchor": None, "positive": "x"}])


def test_switch_draws_follow_the_index_column(st_model, switchers, pair_rows):
    collator = CodeSwitchDataCollator(st_model, {"anchor": switchers[0], "positive": switchers[1]})
    rows = [dict(r, index=i) for i, r in enumerate(_rows(pair_rows))]
    first = collator(rows[:4])
    again = CodeSwitchDataCollator(st_model, {"anchor": switchers[0], "positive": switchers[1]})(rows[:4])
    assert torch.equal(first["anchor_input_ids"], again["anchor_input_ids"])
    assert "index_input_ids" not in first  # the index column is consumed, not tokenized
    collator.set_epoch(3)
    assert not torch.equal(collator(rows[:4])["anchor_input_ids"], first["anchor_input_ids"])


def _train(tmp_path, model, dataset, collator, callbacks=()):
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4, report_to=[],
        save_strategy="no", use_cpu=True, learning_rate=1e-3, seed=0)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                         loss=MultipleNegativesRankingLoss(model), data_collator=collator,
                                         callbacks=list(callbacks))
    return trainer.train()


def test_trainer_trains_with_the_collator(tmp_path, st_model, switchers, pair_rows):
    collator = CodeSwitchDataCollator(st_model, {"anchor": switchers[0], "positive": switchers[1]})
    before = [p.detach().clone() for p in st_model.parameters()]
    result = _train(tmp_path, st_model, datasets.Dataset.from_list(_rows(pair_rows)), collator,
                    [CodeSwitchEpochCallback(collator)])
    assert result.global_step == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, st_model.parameters(), strict=True))


def test_with_transform_switch_texts_variant(tmp_path, st_model, switchers, pair_rows):
    """Text-level switching in a datasets transform, sentence-transformers' own collator."""
    query_switcher, document_switcher = switchers
    dataset = datasets.Dataset.from_list([dict(r, index=i) for i, r in enumerate(_rows(pair_rows))])

    def switch(batch):
        return {"anchor": query_switcher.switch_texts(batch["anchor"], batch["index"]),
                "positive": document_switcher.switch_texts(batch["positive"], batch["index"])}

    switched = dataset.with_transform(switch)
    assert switched[0]["anchor"] == query_switcher.switch_texts([dataset[0]["anchor"]], [0])[0]
    assert switched[:8]["anchor"] != dataset[:8]["anchor"]
    result = _train(tmp_path, st_model, switched, None)
    assert result.global_step == 2


def test_xtreme_r_evaluator_inside_training(tmp_path, st_model, switchers, pair_rows, data_dir):
    from xcs.integrations.sentence_transformers import XtremeREvaluator

    evaluator = XtremeREvaluator("xquadr", data_dir=data_dir, subsample=5, languages=["en", "de"])
    before = evaluator(st_model)
    assert set(before) == {"xtreme-r_MoIR", "xtreme-r_CLIR", "xtreme-r_MLIR", "xtreme-r_en-de"}
    assert evaluator.primary_metric == "xtreme-r_CLIR" and all(0.0 <= v <= 1.0 for v in before.values())
    assert evaluator(st_model) == before  # the same model scores the same, called twice
    collator = CodeSwitchDataCollator(st_model, {"anchor": switchers[0]})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4, report_to=[],
        save_strategy="no", use_cpu=True, eval_strategy="steps", eval_steps=1, seed=0)
    trainer = SentenceTransformerTrainer(model=st_model, args=args,
                                         train_dataset=datasets.Dataset.from_list(_rows(pair_rows)),
                                         loss=MultipleNegativesRankingLoss(st_model), data_collator=collator,
                                         evaluator=evaluator)
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "eval_xtreme-r_CLIR" in entry]
    assert len(logged) == 2
    with pytest.raises(ValueError, match="primary_metric 'Tatoeba' is not among"):
        XtremeREvaluator("xquadr", data_dir=data_dir, subsample=5, languages=["en", "de"],
                         primary_metric="Tatoeba")(st_model)


@pytest.mark.parametrize("as_class", [False, True])
def test_xcs_collator_given_to_the_trainer_names_the_right_one(tmp_path, st_model, switchers, pair_rows,
                                                               as_class):
    """Issue 21.9: xcs.CodeSwitchCollator (an instance, or the class itself) given to the real
    SentenceTransformerTrainer failed inside sentence-transformers with "'CodeSwitchCollator' object
    has no attribute 'valid_label_columns'"; now the error names CodeSwitchDataCollator."""
    import xcs

    collator = (xcs.CodeSwitchCollator if as_class
                else xcs.CodeSwitchCollator(st_model.tokenizer, query_switcher=switchers[0]))
    before = [p.detach().clone() for p in st_model.parameters()]
    right_one = r"needs xcs\.integrations\.sentence_transformers\.CodeSwitchDataCollator"
    with pytest.raises(TypeError, match=right_one):
        _train(tmp_path, st_model, datasets.Dataset.from_list(_rows(pair_rows)), collator)
    assert all(torch.equal(a, b) for a, b in zip(before, st_model.parameters(), strict=True))  # no step ran
    assert not hasattr(collator, "valid_label_columns")  # an AttributeError too: probes still answer False


def test_collator_class_used_as_collate_fn_is_a_clear_error(pair_rows):
    import xcs

    with pytest.raises(TypeError, match="pass an instance"):
        xcs.CodeSwitchCollator(pair_rows[:2])
