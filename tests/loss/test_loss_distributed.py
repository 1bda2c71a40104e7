"""gather=True: two gloo processes on CPU match one process on the concatenated batch.

Each rank holds its slice of queries and documents; with reduction "mean" the rank losses average to
the single-process loss, every rank's gradients for its own q/d rows are world_size times the
single-process gradients (DDP's gradient averaging divides that back), and the temperature gradients
average to the single-process one.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from xcs.loss.api import contrastive_loss

WORLD = 2
QUERIES_PER_RANK, DOCS_PER_RANK, DIM = 5, 8, 12


def _batch():
    g = torch.Generator().manual_seed(11)
    q = torch.nn.functional.normalize(torch.randn(WORLD * QUERIES_PER_RANK, DIM, generator=g), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(WORLD * DOCS_PER_RANK, DIM, generator=g), dim=-1)
    local_labels = torch.randint(0, DOCS_PER_RANK, (WORLD, QUERIES_PER_RANK), generator=g)
    ids = torch.randint(0, 6, (WORLD * DOCS_PER_RANK,), generator=g)
    return q, d, local_labels, ids


def _loss_and_grads(q, d, labels, ids, options, gather):
    q = q.clone().requires_grad_()
    d = d.clone().requires_grad_()
    tau = torch.tensor(0.1, requires_grad=True)
    loss = contrastive_loss(
        q, d, temperature=tau, labels=labels, false_negative_ids=ids, gather=gather, chunk_size=3, **options
    )
    loss.backward()
    return loss.detach(), q.grad, d.grad, tau.grad


# one process group serves every option set: spawning the ranks dominates the test's runtime
OPTION_SETS = [{}, {"symmetric": True, "margin": 0.2}]


def _worker(rank, init_file, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        q, d, local_labels, ids = _batch()
        rows = slice(rank * QUERIES_PER_RANK, (rank + 1) * QUERIES_PER_RANK)
        cols = slice(rank * DOCS_PER_RANK, (rank + 1) * DOCS_PER_RANK)
        results = [
            _loss_and_grads(q[rows], d[cols], local_labels[rank], ids[cols], options, gather=True)
            for options in OPTION_SETS
        ]
        torch.save(results, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_equal_one_process(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=WORLD, join=True)
    per_rank = [torch.load(tmp_path / f"rank{rank}.pt") for rank in range(WORLD)]
    for index, options in enumerate(OPTION_SETS):
        _check_against_one_process(options, [rank_results[index] for rank_results in per_rank])


def _check_against_one_process(options, results):
    q, d, local_labels, ids = _batch()
    labels = (local_labels + DOCS_PER_RANK * torch.arange(WORLD)[:, None]).reshape(-1)
    loss, grad_q, grad_d, grad_tau = _loss_and_grads(q, d, labels, ids, options, gather=False)
    rank_losses = torch.stack([results[r][0] for r in range(WORLD)])
    torch.testing.assert_close(rank_losses.mean(), loss, rtol=1e-5, atol=1e-6)
    for rank in range(WORLD):
        _, rank_grad_q, rank_grad_d, _ = results[rank]
        rows = slice(rank * QUERIES_PER_RANK, (rank + 1) * QUERIES_PER_RANK)
        cols = slice(rank * DOCS_PER_RANK, (rank + 1) * DOCS_PER_RANK)
        torch.testing.assert_close(rank_grad_q / WORLD, grad_q[rows], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(rank_grad_d / WORLD, grad_d[cols], rtol=1e-5, atol=1e-6)
    rank_grad_tau = torch.stack([results[r][3] for r in range(WORLD)])
    torch.testing.assert_close(rank_grad_tau.mean(), grad_tau, rtol=1e-5, atol=1e-5)
