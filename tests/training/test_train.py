"""xcs.training.loop: the loop, schedule, sampling, hard negatives, freezing, checkpoint/resume, gloo DDP.

Every test trains a tiny randomly initialised BERT (2 layers, hidden 16) that uses the real default
tokenizer, for a few steps on synthetic pairs.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import fresh_encoder, make_pairs, run, save_tiny_model

from xcs.data.pairs import TrainPair
from xcs.experiment.runs import evaluation_encoder
from xcs.training.config import TrainConfig
from xcs.training.cross_encoder import train_cross_encoder
from xcs.training.devices import check_device_name, resolve_device
from xcs.training.negatives import mine_negatives, paragraph_negatives
from xcs.training.optimization import warmup_linear_decay
from xcs.training.sampling import batch_indices


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, e5_tokenizer) -> Path:
    """Dropout 0: runs are exactly comparable across process layouts."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model", e5_tokenizer, 0.0)


@pytest.fixture(scope="session")
def tiny_dropout_model_dir(tmp_path_factory, e5_tokenizer) -> Path:
    """Dropout 0.1: resuming must also restore the RNG that draws the dropout masks."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-dropout") / "model", e5_tokenizer, 0.1)


def test_warmup_then_linear_decay():
    factor = warmup_linear_decay(warmup_steps=4, total_steps=10)
    values = [factor(s) for s in range(11)]
    assert values[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert values[4] == pytest.approx(1.0)
    assert values[10] == 0.0
    assert all(a >= b for a, b in zip(values[4:], values[5:], strict=False))


def test_batches_are_epoch_permutations_and_deterministic():
    steps_per_epoch = 10 // 3
    seen = np.concatenate([batch_indices(10, 3, s, seed=5)[0] for s in range(steps_per_epoch)])
    assert len(set(seen.tolist())) == len(seen) == 9  # no repeat inside an epoch, last partial batch dropped
    assert batch_indices(10, 3, 3, seed=5)[1] == 1
    assert np.array_equal(batch_indices(10, 3, 4, seed=5)[0], batch_indices(10, 3, 4, seed=5)[0])
    assert not np.array_equal(batch_indices(10, 3, 0, seed=5)[0], batch_indices(10, 3, 0, seed=6)[0])
    with pytest.raises(ValueError, match="cannot fill"):
        batch_indices(2, 3, 0, seed=0)


def test_paragraph_negatives_come_from_the_same_paragraph_and_never_the_positive():
    pairs = make_pairs(12)
    ids = np.array([0, 5, 7])
    negatives = paragraph_negatives(pairs, ids, k=2, seed=0, step=3)
    for i, row in zip(ids, negatives, strict=True):
        assert len(row) == 2
        assert all(s in pairs[i].paragraph and s != pairs[i].positive for s in row)
    lonely = [TrainPair("q", "only sentence", ("only sentence",))]
    assert paragraph_negatives(lonely, np.array([0]), k=1, seed=0, step=0) == [["only sentence"]]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="hard_negatives"):
        TrainConfig(hard_negatives="random")
    with pytest.raises(ValueError, match="unknown training option"):
        TrainConfig.from_dict({"stepz": 3})
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match=r"checkpoint_every\n  Input should be greater than or equal to 1"):
        TrainConfig(checkpoint_every=0)
    with pytest.raises(ValueError, match=r"mine_every\n  Input should be greater than or equal to 0"):
        TrainConfig(mine_every=-1)


@pytest.mark.parametrize(("values", "message"), [
    ({"freeze_embeddings": "false"}, r"freeze_embeddings: Input should be a valid boolean \(got 'false'\)"),
    ({"symmetric": "no"}, "symmetric: Input should be a valid boolean"),
    ({"steps": 40.5}, r"steps: Input should be a valid integer \(got 40.5\)"),
    ({"batch_size": 16.0}, r"batch_size: Input should be a valid integer \(got 16.0\)"),
    ({"seed": 1.9}, r"seed: Input should be a valid integer \(got 1.9\)"),
    ({"lr": float("nan")}, "lr: Input should be a finite number"),
    ({"loss_impl": "fast"}, "loss_impl: Input should be 'auto'"),
])
def test_config_never_coerces(values, message):
    """No silent coercion (issue 12): a wrong type is an error naming the field, never a guess."""
    from pydantic import ValidationError

    from xcs.schema import validation_message

    with pytest.raises(ValidationError) as error:
        TrainConfig(**values)
    assert re.search(message, validation_message(error.value))
    assert TrainConfig(warmup=2).warmup == 2.0  # an int for a float field is exact, so accepted


def test_device_names_resolve_and_bad_ones_are_refused():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert check_device_name("cuda:1") == "cuda:1"
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda.is_available"):
            resolve_device("cuda:0")


def test_training_lowers_the_loss_and_writes_model_and_log(tiny_model_dir, tmp_path):
    from xcs.models.encoder import Encoder

    config = TrainConfig(steps=8, batch_size=8, lr=3e-3, warmup=2, checkpoint_every=100, seed=1,
                         hard_negatives="paragraph")
    encoder, result = run(tiny_model_dir, tmp_path / "run", config, save_model=True)
    assert len(result.losses) == 8 and all(np.isfinite(result.losses))
    assert np.mean(result.losses[-3:]) < np.mean(result.losses[:3])
    assert (tmp_path / "run" / "checkpoint.pt").exists()  # the final step always checkpoints
    reloaded = Encoder(tmp_path / "run" / "model")
    texts = ["What about the river 3?"]
    np.testing.assert_allclose(reloaded.encode(texts, kind="query"), encoder.encode(texts, kind="query"),
                               atol=1e-5)


def test_frozen_embeddings_stay_put_and_the_rest_moves(tiny_model_dir, tmp_path):
    before = fresh_encoder(tiny_model_dir).model.state_dict()
    config = TrainConfig(steps=3, batch_size=8, lr=1e-3, freeze_embeddings=True, checkpoint_every=100)
    encoder, _ = run(tiny_model_dir, tmp_path / "run", config)
    after = encoder.model.state_dict()
    key = "embeddings.word_embeddings.weight"
    assert torch.equal(before[key], after[key])
    assert not torch.equal(before["encoder.layer.0.attention.self.query.weight"],
                           after["encoder.layer.0.attention.self.query.weight"])
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert not any("word_embeddings" in name for name in saved["trainable"])  # frozen tensors not stored


@pytest.mark.parametrize("negatives", [
    {"hard_negatives": "paragraph"},
    # the checkpoint of step 2 is a mining step: the resumed run must re-mine there too
    {"hard_negatives": "mined", "mine_every": 2, "freeze_embeddings": True},
    {"hard_negatives": "paragraph", "lora_rank": 4},  # the checkpoint holds the adapters only
])
def test_killed_run_resumes_with_identical_losses(tiny_dropout_model_dir, tmp_path, negatives):
    config = TrainConfig(steps=4, batch_size=4, lr=1e-3, warmup=1, checkpoint_every=2, seed=3, grad_accum=2,
                         **negatives)
    _, full = run(tiny_dropout_model_dir, tmp_path / "full", config)

    def kill_at_three(step: int, loss: float) -> None:
        if step == 3:
            raise KeyboardInterrupt  # after the step-2 checkpoint, before the step-4 one

    with pytest.raises(KeyboardInterrupt):
        run(tiny_dropout_model_dir, tmp_path / "killed", config, on_step=kill_at_three)
    encoder, resumed = run(tiny_dropout_model_dir, tmp_path / "killed", config)
    assert resumed.resumed_from == 2
    assert resumed.losses == full.losses  # bit-identical, dropout included
    assert resumed.total_wall_s > resumed.wall_s  # the segment before the kill counts too


def test_mined_negatives_exclude_the_positive(tiny_model_dir):
    pairs = make_pairs(20)
    mined = mine_negatives(fresh_encoder(tiny_model_dir), pairs, k=2)
    assert len(mined) == len(pairs)
    for pair, row in zip(pairs, mined, strict=True):
        assert len(row) == 2 and pair.positive not in row
    with pytest.raises(ValueError, match="at least 2 distinct positive"):
        mine_negatives(fresh_encoder(tiny_model_dir), [TrainPair("q1", "same"), TrainPair("q2", "same")], k=1)


def test_mining_embeds_the_pool_with_the_document_tower_in_eval_mode(tiny_model_dir):
    pairs = make_pairs(20)
    queries, documents = fresh_encoder(tiny_model_dir), fresh_encoder(tiny_model_dir)
    with torch.no_grad():
        for parameter in documents.model.parameters():  # a different document tower
            parameter.add_(0.05 * torch.randn_like(parameter))
    modes = []
    encode = documents.encode

    def spy(texts, kind=None, **kwargs):
        modes.append((kind, queries.model.training, documents.model.training))
        return encode(texts, kind=kind, **kwargs)

    documents.encode = spy
    queries.model.train()
    documents.model.train()
    mined = mine_negatives(queries, pairs, k=2, document_encoder=documents)
    assert modes == [("passage", False, False)]  # the pool, by the document tower, both towers in eval
    assert queries.model.training and documents.model.training  # modes restored
    documents.encode = encode
    q = torch.from_numpy(queries.encode([p.query for p in pairs], kind="query"))
    pool = sorted({p.positive for p in pairs})
    d = torch.from_numpy(documents.encode(pool, kind="passage"))
    scores = q @ d.T
    for i, pair in enumerate(pairs):
        scores[i, pool.index(pair.positive)] = -float("inf")
    assert mined == [[pool[j] for j in row] for row in scores.topk(2, dim=1).indices.tolist()]


def test_mined_and_separate_towers_train(tiny_model_dir, tmp_path):
    config = TrainConfig(steps=2, batch_size=4, lr=1e-3, hard_negatives="mined", mine_every=1,
                         shared_towers=False, checkpoint_every=100)
    encoder, result = run(tiny_model_dir, tmp_path / "run", config, save_model=True)
    assert all(np.isfinite(result.losses))
    assert (tmp_path / "run" / "model-documents" / "config.json").exists()
    document_encoder = result.extra["document_encoder"]
    assert not torch.equal(encoder.model.encoder.layer[0].output.dense.weight,
                           document_encoder.model.encoder.layer[0].output.dense.weight)
    assert encoder.model.training and document_encoder.model.training  # as training left them
    evaluated = evaluation_encoder(encoder, document_encoder)  # what the experiment evaluates
    assert not encoder.model.training and not document_encoder.model.training  # dropout off in both
    texts = ["Another fact about item 3."]
    np.testing.assert_array_equal(evaluated.encode(texts, kind="passage"),
                                  document_encoder.encode(texts, kind="passage"))


# ------------------------------------------------------------------------------ two gloo ranks
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world_size: int, port: int, model_dir: str, out: str, result_file: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        config = TrainConfig(steps=2, batch_size=4 // world_size, lr=1e-3, warmup=0, checkpoint_every=100,
                             hard_negatives="paragraph")
        encoder, result = run(Path(model_dir), Path(out), config)
        if rank == 0:
            torch.save({"losses": result.losses, "state": encoder.model.state_dict()}, result_file)
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_train_like_one_process_on_the_whole_batch(tiny_model_dir, tmp_path):
    import torch.multiprocessing as mp

    config = TrainConfig(steps=2, batch_size=4, lr=1e-3, warmup=0, checkpoint_every=100,
                         hard_negatives="paragraph")
    single, reference = run(tiny_model_dir, tmp_path / "single", config)
    result_file = tmp_path / "ddp.pt"
    mp.start_processes(_ddp_worker, args=(2, _free_port(), str(tiny_model_dir), str(tmp_path / "ddp"),
                                          str(result_file)), nprocs=2, join=True, start_method="spawn")
    ddp = torch.load(result_file, weights_only=False)
    np.testing.assert_allclose(ddp["losses"], reference.losses, rtol=1e-5)
    for name, tensor in single.model.state_dict().items():
        torch.testing.assert_close(ddp["state"][name], tensor, rtol=1e-4, atol=1e-6, msg=name)


def test_resume_refuses_a_checkpoint_of_other_settings(tiny_model_dir, tmp_path):
    run(tiny_model_dir, tmp_path / "run", TrainConfig(steps=1, batch_size=4, checkpoint_every=1))
    with pytest.raises(ValueError, match=r"other settings \(\['lr'\]\)"):
        run(tiny_model_dir, tmp_path / "run", TrainConfig(steps=1, batch_size=4, checkpoint_every=1, lr=1.0))


def test_corrupt_checkpoint_names_the_file_and_suggests_no_resume(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    (out / ".checkpoint.pt.tmp999999999.pt").write_bytes(b"half a checkpoint")  # a dead writer's
    with pytest.raises(ValueError, match=r"checkpoint.pt is not a readable xcs checkpoint .*--no-resume"):
        run(tiny_model_dir, out, TrainConfig(steps=1, batch_size=4, checkpoint_every=1))
    assert not (out / ".checkpoint.pt.tmp999999999.pt").exists()
    _, result = run(tiny_model_dir, out, TrainConfig(steps=1, batch_size=4, checkpoint_every=1), resume=False)
    assert len(result.losses) == 1


def test_freeze_layers_trains_only_the_upper_blocks(tiny_model_dir, tmp_path):
    """freeze_layers = 1 of the tiny BERT's 2 blocks: embeddings and block 0 unchanged, block 1 trained."""
    encoder, _ = run(tiny_model_dir, tmp_path / "run", TrainConfig(steps=2, batch_size=4, lr=1e-2, warmup=0,
                                                                   freeze_layers=1, checkpoint_every=100))
    untouched = fresh_encoder(tiny_model_dir).model.state_dict()
    trained = encoder.model.state_dict()
    moved = {n for n in trained if not torch.equal(trained[n], untouched[n])}
    assert moved and all(n.startswith("encoder.layer.1.") for n in moved)
    with pytest.raises(ValueError, match="freeze_layers = 3 but the model has 2 blocks"):
        run(tiny_model_dir, tmp_path / "too-many", TrainConfig(steps=1, batch_size=4, freeze_layers=3))


@pytest.mark.parametrize("shared_towers", [True, False])
def test_lora_moves_only_the_adapted_projections_and_saves_a_plain_model(tiny_model_dir, tmp_path,
                                                                        shared_towers):
    """peft's default LoRA targets for BERT are the attention's query and value projections: after
    merging, only those weights differ from the start, the saved model has the untouched model's
    tensor names and loads to the trained encoder's embeddings, and the checkpoint stores adapters."""
    config = TrainConfig(steps=3, batch_size=4, lr=1e-2, warmup=0, lora_rank=4, lora_alpha=8.0,
                         checkpoint_every=100, shared_towers=shared_towers)
    encoder, result = run(tiny_model_dir, tmp_path / "run", config, save_model=True)
    untouched = fresh_encoder(tiny_model_dir).model.state_dict()
    trained = encoder.model.state_dict()
    assert set(trained) == set(untouched)
    moved = {n for n in trained if not torch.equal(trained[n], untouched[n])}
    assert moved and all(re.search(r"attention\.self\.(query|value)\.weight$", n) for n in moved)
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert saved["trainable"] and all(".lora_" in n for n in saved["trainable"])
    reloaded = fresh_encoder(tmp_path / "run" / "model")
    texts = ["what is a tiny model", "a tiny model is small"]
    assert np.allclose(reloaded.encode(texts), encoder.encode(texts), atol=1e-6)
    if not shared_towers:  # the document tower is adapted and merged alike
        documents = result.extra["document_encoder"].model.state_dict()
        assert set(documents) == set(untouched)
        assert (tmp_path / "run" / "model-documents").is_dir()


def test_lora_refuses_what_it_cannot_do(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="lora_rank and freeze_layers"):
        TrainConfig(lora_rank=4, freeze_layers=1)
    with pytest.raises(ValueError, match="lora_alpha"):
        TrainConfig(lora_rank=4, lora_alpha=0.0)
    with pytest.raises(ValueError, match="cross-encoder trains its full weights"):
        train_cross_encoder(None, [], None, TrainConfig(lora_rank=4))


def test_distillation_term_pulls_towards_the_starting_model(tiny_model_dir, tmp_path):
    """The term is 0 while the model equals its teacher, and it is what keeps a distilled run closer to
    the starting weights than an undistilled one."""
    import copy

    from xcs.training.collated import recipe_batch_builder
    from xcs.training.objective import DualTowers, step_loss

    student = fresh_encoder(tiny_model_dir)
    teacher = copy.deepcopy(student)
    builder = recipe_batch_builder(student.tokenizer, None, align=True, max_query_length=32,
                                   max_document_length=48)
    batch = builder(make_pairs(4), [[] for _ in range(4)], np.arange(4), 0, 0)
    towers = DualTowers(student).eval()
    plain = step_loss(towers, batch, TrainConfig(), gather=False)
    same = step_loss(towers, batch, TrainConfig(distill_weight=1.0), gather=False, teacher=teacher)
    torch.testing.assert_close(same, plain)
    with torch.no_grad():
        for p in student.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    moved = step_loss(towers, batch, TrainConfig(distill_weight=1.0), gather=False, teacher=teacher)
    assert moved > step_loss(towers, batch, TrainConfig(), gather=False)

    texts = [p.query for p in make_pairs(16)]
    start = fresh_encoder(tiny_model_dir).encode(texts, kind="query")

    def distance_after(weight: float) -> float:
        """Mean cosine distance of the trained model's query embeddings to the starting model's."""
        encoder, _ = run(tiny_model_dir, tmp_path / f"w{weight}", TrainConfig(
            steps=4, batch_size=4, lr=3e-3, warmup=0, distill_weight=weight, checkpoint_every=100))
        encoder.model.eval()
        return float(1.0 - (encoder.encode(texts, kind="query") * start).sum(axis=1).mean())

    assert distance_after(20.0) < distance_after(0.0)
