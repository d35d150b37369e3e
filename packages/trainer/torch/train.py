"""Trains Hunch's next-item GPT-2 on token shards (`hunch shards`) with PyTorch, on one
process or many (DDP), and writes the checkpoint `hunch export` reads.

  python3 train.py --shards DIR --out CHECKPOINT_DIR [options]                 one process
  torchrun --nproc_per_node 2 train.py --shards DIR --out CHECKPOINT_DIR ...   DDP (gloo on CPU)
  torchrun --nnodes N --nproc_per_node G --rdzv_backend c10d \\
           --rdzv_endpoint HOST:29500 train.py ...                            GPU machines (NCCL)

Every process draws the same batches and negatives (data.py) and computes the gradient of
its share of each batch's rows (row i goes to rank i mod world); DDP averages the shares,
and each share's loss is scaled so that the average is the loss of the whole batch: the
same global batch gives the same step on any number of processes, up to float rounding.
The last line printed (rank 0) is a JSON summary.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from hunch_torch.checkpoint import write_checkpoint
from hunch_torch.data import NegativeSampler, plan_epoch, warmup_cosine
from hunch_torch.loss import next_item_loss_sum, pad_rows
from hunch_torch.model import Config, Heads, NextItemGPT2
from hunch_torch.shards import read_shards


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shards", required=True, help="directory written by `hunch shards`")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embd", type=int, default=64)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--context", type=int, default=50)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-tokens", type=int, default=2048, help="rows x longest input of a global batch")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--negatives", type=int, default=2048, help="shared sampled negatives per step (0: every item, full softmax)")
    p.add_argument("--no-item-bias", action="store_true")
    p.add_argument("--no-repeat", action="store_true")
    p.add_argument("--cosine-scale", type=float, default=12.0, help="0: dot-product scoring")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: the epochs)")
    p.add_argument("--time-budget", type=float, default=0, help="minutes of training: the steps are set from the first ones' speed")
    p.add_argument("--threads", type=int, default=0, help="torch threads per process (0: torch's default)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    log = (lambda line: print(line, flush=True)) if rank == 0 else (lambda line: None)

    manifest, train, _ = read_shards(args.shards)
    vocabulary = manifest["vocabulary"]
    V = len(vocabulary)
    rows = [s[: args.context + 1] for s in train if len(s) >= 2]
    if not rows:
        raise ValueError(f"{args.shards}: no training sequence has a target to learn")
    lengths = [len(r) for r in rows]
    is_item = torch.tensor([t.startswith("item:") for t in vocabulary], dtype=torch.bool)
    counts = torch.zeros(V, dtype=torch.long)
    for r in rows:
        counts.scatter_add_(0, torch.as_tensor(r[1:]), torch.ones(len(r) - 1, dtype=torch.long))
    if args.negatives > 0:
        sampler = NegativeSampler(counts, is_item)
        K = args.negatives
    else:
        candidates = torch.nonzero(is_item | (counts > 0)).flatten()
        candidates = candidates[candidates > 0]
        K = len(candidates)

    config = Config(V, args.context, args.embd, args.layers, args.heads)
    heads = Heads(not args.no_item_bias, not args.no_repeat, args.cosine_scale)
    torch.manual_seed(args.seed)  # the same initial weights in every process
    model = NextItemGPT2(config, heads, args.dropout).to(device)
    torch.manual_seed(args.seed * 7919 + rank)  # dropout masks: each process its own
    trained = NextItemLoss(model, is_item.to(device))
    step_module = DistributedDataParallel(trained) if world > 1 else trained
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.98), eps=1e-8,
    )

    plans = [plan_epoch(lengths, args.batch_tokens, args.seed, e) for e in range(args.epochs)]
    planned = sum(len(p) for p in plans)
    cap = min(planned, args.max_steps) if args.max_steps > 0 else planned
    total = cap
    batches = (b for plan in plans for b in plan)
    params = sum(p.numel() for p in model.parameters())
    log(
        f"training next-item GPT-2 on PyTorch {torch.__version__}: {args.layers} layers, n_embd {args.embd}, {args.heads} heads, context {args.context}, "
        f"vocab {V}, {params:,} parameters; {len(rows)} sequences, {total} steps ({args.epochs} epochs), "
        f"{f'{K} sampled negatives' if args.negatives > 0 else 'full softmax'}, {world} process{'es' if world > 1 else ''} on {device.type}"
        f"{f' ({dist.get_backend()})' if world > 1 else ''}, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''} each"
    )

    model.train()
    started = time.perf_counter()
    first_done = None
    tokens = 0
    losses = []
    step = 0
    while step < total:
        batch = [rows[i] for i in next(batches)]
        if args.negatives > 0:
            negatives, log_kq = sampler.sample(K, args.seed, step)
        else:
            negatives, log_kq = candidates, torch.zeros(K)
        normalizer = sum(len(r) - 1 for r in batch)
        mine = batch[rank::world]
        # A process with no row of a small batch still takes part (DDP needs every one), weighing nothing.
        scale = world / normalizer if mine else 0.0
        ids, targets = pad_rows(mine or batch[:1], device)
        loss_sum = step_module(ids, targets, negatives.to(device), log_kq.to(device))
        (loss_sum * scale).backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        warmup = max(1, round(total * 0.02))
        lr = warmup_cosine(step, total, args.lr, warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += normalizer
        loss = reduce_sum(loss_sum.detach() * (1.0 if mine else 0.0), world) / normalizer
        losses.append(loss)
        now = time.perf_counter()
        if step == 1:
            first_done = now
            mark, check_at = (now, 1), None
        if args.time_budget > 0 and (step == min(21, total - 1) or step == check_at):
            # Fix the steps from the speed of those since the last check (the first: since step 1, which pays
            # for warming up), then check again a quarter of the steps left later; the lr schedule follows.
            # Rank 0 decides for all.
            per_step = (now - mark[0]) / (step - mark[1])
            fit = step + int((args.time_budget * 60 - (now - started)) / per_step)
            total = int(broadcast(min(cap, max(step + 1, fit)), world))
            check_at = step + max(20, (total - step) // 4)
            mark = (now, step)
            log(f"time budget {args.time_budget} min: {per_step * 1000:.0f} ms a step -> {total} steps, {total / planned * args.epochs:.2f} epochs")
        if args.time_budget > 0 and step < total and broadcast(now - started >= args.time_budget * 60, world):
            # Slower than calibrated (the machine's load rose): stop on time, short of the schedule's end.
            log(f"time budget spent at step {step} of {total}: stopping before the schedule's end")
            total = step
        every = max(1, min(50, total // 100))
        if step % every == 0 or step == total:
            rate = tokens / (now - started)
            log(f"step {step}/{total}  loss {np.mean(losses[-every:]):.4f}  lr {lr:.2e}  {rate:,.0f} tok/s  {now - started:.0f} s")

    seconds = time.perf_counter() - started
    # Tokens a second after the first step (which pays for warming up), as the throughput to compare.
    steady = (tokens - first_batch_tokens(plans, rows)) / (time.perf_counter() - first_done) if step > 1 else tokens / seconds
    summary = {
        "engine": f"pytorch {torch.__version__}",
        "processes": world,
        "device": device.type,
        "threads_per_process": torch.get_num_threads(),
        "steps": step,
        "epochs": step / planned * args.epochs,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_second": round(tokens / seconds),
        "tokens_per_second_after_first_step": round(steady),
        "final_loss": float(np.mean(losses[-20:])),
        "last_grad_norm": grad_norm,
    }
    if rank == 0:
        training = {
            "engine": summary["engine"],
            "processes": world,
            "events": manifest.get("events", sum(len(s) for s in train)),
            "sequences": len(rows),
            "steps": step,
            "keptStep": step,
            "epochs": summary["epochs"],
            "finalLoss": summary["final_loss"],
            "seed": args.seed,
            "skippedLines": manifest.get("skippedLines", 0),
            "batch": args.batch_tokens,
            "learningRate": args.lr,
            "softmax": K if args.negatives > 0 else "full",
            "validation": None,
            "base": None,
            "seconds": summary["seconds"],
            "tokensPerSecond": summary["tokens_per_second"],
        }
        write_checkpoint(args.out, model.cpu(), manifest, training)
        log(f"checkpoint -> {args.out}")
        print(json.dumps(summary), flush=True)
    if world > 1:
        # Every process ends together: rank 0 writes the checkpoint after the last step, and a
        # process group torn down while another rank still works could hang torch 1.13's gloo.
        dist.barrier()
        dist.destroy_process_group()


class NextItemLoss(torch.nn.Module):
    """The model and its loss as one module, so DDP's forward sees every parameter."""

    def __init__(self, model, is_item):
        super().__init__()
        self.model = model
        self.is_item = is_item  # not a buffer: gloo cannot broadcast bool tensors, and it never changes

    def forward(self, ids, targets, negatives, log_kq):
        loss_sum, _ = next_item_loss_sum(self.model, ids, targets, self.is_item, negatives, log_kq)
        return loss_sum


def reduce_sum(value, world):
    if world > 1:
        value = value.clone()
        dist.all_reduce(value)
    return float(value)


def broadcast(value, world):
    if world == 1:
        return value
    t = torch.tensor([float(value)], device="cuda" if torch.cuda.is_available() else "cpu")
    dist.broadcast(t, 0)
    return float(t)


def first_batch_tokens(plans, rows):
    return sum(len(rows[i]) - 1 for i in plans[0][0])


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
