"""Issue 21.3 / 21.4: a diverging run stops with an error (last good checkpoint kept, no model saved);
a LoRA rank above the adapted matrices' smaller dimension is refused before peft allocates it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from train_helpers import fresh_encoder, run, save_tiny_model

from xcs.training.adapters import add_lora, check_lora_rank
from xcs.training.config import TrainConfig
from xcs.training.loop import NonFiniteLossError


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, e5_tokenizer) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny-guards") / "model", e5_tokenizer, 0.0)


def test_a_diverging_run_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tiny_model_dir, tmp_path):
    """lr 1e30: step 1's loss is finite, the update it makes is not survivable, step 2's loss is NaN."""
    config = TrainConfig(steps=4, batch_size=2, lr=1e30, warmup=0, freeze_embeddings=True, checkpoint_every=1)
    out = tmp_path / "run"
    with pytest.raises(NonFiniteLossError, match=r"the loss of step 2 is nan .* stopped without saving "
                                                  r"a model \(the last good checkpoint, .*checkpoint.pt "
                                                  r"\(step 1\)"):
        run(tiny_model_dir, out, config, save_model=True)
    assert not (out / "model").exists() and not (out / "train_log.json").exists()
    saved = torch.load(out / "checkpoint.pt", weights_only=False)
    assert saved["step"] == 1 and len(saved["losses"]) == 1 and math.isfinite(saved["losses"][0])
    with pytest.raises(NonFiniteLossError, match="step 2"):  # resuming it diverges again, at once
        run(tiny_model_dir, out, config, save_model=True)


def test_a_diverging_cli_run_exits_1_without_a_model(tiny_model_dir, tmp_path, capsys):
    from xcs.cli import main

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": f"What about item {i}?", "positive": f"Item {i} is here."})
                             + "\n" for i in range(8)))
    code = main(["train", "--train-file", str(pairs), "--model", str(tiny_model_dir), "--out",
                 str(tmp_path / "run"), "--lr", "1e30", "--steps", "4", "--batch-size", "2",
                 "--max-pairs", "8", "--freeze-embeddings", "--device", "cpu", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1 and "diverged: the loss of step 2 is nan" in captured.err
    assert f"xcs train: error: training in {tmp_path / 'run'} diverged" in captured.err
    assert "NaN" not in captured.out and not (tmp_path / "run" / "model").exists()


def test_a_run_resumed_at_its_end_writes_valid_json(tiny_model_dir, tmp_path):
    """No step is trained: steps/s is undefined, written as null (was NaN, not JSON)."""
    config = TrainConfig(steps=2, batch_size=2, warmup=0, checkpoint_every=1)
    run(tiny_model_dir, tmp_path / "run", config)
    _, result = run(tiny_model_dir, tmp_path / "run", config)
    assert result.resumed_from == 2
    log = json.loads((tmp_path / "run" / "train_log.json").read_text(), parse_constant=pytest.fail)
    assert log["steps_per_s"] is None


def test_lora_rank_above_the_adapted_matrices_is_refused_before_peft(tiny_model_dir, tmp_path):
    """The tiny BERT's query / value projections are 16 x 16: rank 16 is the limit."""
    model = fresh_encoder(tiny_model_dir).model
    check_lora_rank(model, 16)
    with pytest.raises(ValueError, match=r"lora_rank \(--lora-rank\) = 17 is larger than 16, the smaller "
                                         r"dimension of the matrices LoRA adapts in BertModel .*16 x 16"):
        add_lora(model, TrainConfig(lora_rank=17))
    with pytest.raises(ValueError, match="lora_rank <= 16"):  # 100000 used to grow to 23.5 GB
        run(tiny_model_dir, tmp_path / "run", TrainConfig(steps=1, batch_size=2, lora_rank=100000))
    assert not any("lora" in n for n, _ in model.named_parameters())  # nothing was wrapped


@pytest.mark.parametrize("max_grad_norm", [1.0, 0.0])
def test_a_non_finite_gradient_stops_the_run_before_it_reaches_the_weights(tiny_model_dir, tmp_path,
                                                                           max_grad_norm):
    """A finite loss whose gradient is not (an overflow in the backward pass): no step is taken, so no
    checkpoint ever holds NaN weights."""
    from train_helpers import make_pairs

    from xcs.training.collated import recipe_batch_builder
    from xcs.training.loop import train

    encoder = fresh_encoder(tiny_model_dir)
    before = {n: p.detach().clone() for n, p in encoder.model.named_parameters()}
    poisoned = encoder.model.encoder.layer[1].output.dense.weight
    poisoned.register_hook(lambda grad: grad * float("inf"))
    config = TrainConfig(steps=3, batch_size=2, warmup=0, checkpoint_every=1, max_grad_norm=max_grad_norm)
    builder = recipe_batch_builder(encoder.tokenizer, None, total_steps=3, max_query_length=32,
                                   max_document_length=48)
    with pytest.raises(NonFiniteLossError, match=r"diverged: the gradient of step 1 \(loss [0-9.]+\) is "
                                                  r"\(not a finite number\).*this run had written no "
                                                  r"checkpoint yet"):
        train(encoder, make_pairs(), builder, config, tmp_path / "run", progress=False)
    after = dict(encoder.model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in before)  # the update was not applied
    assert not (tmp_path / "run" / "checkpoint.pt").exists() and not (tmp_path / "run" / "model").exists()


def test_a_diverging_reranker_stops_naming_the_step(tiny_model_dir, e5_tokenizer, monkeypatch):
    from train_helpers import make_pairs
    from transformers import AutoTokenizer

    from xcs.models.cross_encoder import CrossEncoder
    from xcs.training.collated import recipe_batch_builder
    from xcs.training.cross_encoder import train_cross_encoder

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda *args, **kwargs: e5_tokenizer)
    cross = CrossEncoder(tiny_model_dir, seed=0)
    builder = recipe_batch_builder(cross.tokenizer, None, total_steps=4, max_query_length=32,
                                   max_document_length=48)
    config = TrainConfig(steps=4, batch_size=2, lr=1e30, warmup=0, hard_negatives="paragraph")
    with pytest.raises(NonFiniteLossError, match=r"reranker training diverged: the (loss|gradient) of step "
                                                  r"[2-4]"):
        train_cross_encoder(cross, make_pairs(), builder, config, progress=False)
