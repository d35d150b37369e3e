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
from hunch_torch.contrastive import PositivePartners, info_nce_sum, last_hidden
from hunch_torch.budget import Schedule, next_check, plan_budget
from hunch_torch.data import NegativeSampler, plan_epoch
from hunch_torch.distil import SoftTargets
from hunch_torch.loss import next_item_loss_sum, pad_rows
from hunch_torch.model import Config, Heads, NextItemGPT2
from hunch_torch.shards import read_shards
from hunch_torch.validation import BestWeights, Scoring, Validator


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
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--min-lr-ratio", type=float, default=0.1, help="the schedule's floor, a share of the peak (the last step's)")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--no-positions", action="store_true", help="position embeddings fixed at zero (order only through the causal mask)")
    p.add_argument("--attn-dropout", type=float, default=0.0, help="dropout on the attention weights (0: none, as the Node trainer)")
    p.add_argument("--negatives", type=int, default=2048, help="shared sampled negatives per step (0: every item, full softmax)")
    p.add_argument("--no-item-bias", action="store_true")
    p.add_argument("--no-repeat", action="store_true")
    p.add_argument("--cosine-scale", type=float, default=12.0, help="0: dot-product scoring")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: the epochs)")
    p.add_argument("--time-budget", type=float, default=0, help="minutes of training, validations included: the steps are set from the measured speed")
    p.add_argument("--validate-every", type=int, default=600, help="steps between validations on the shards' validation split (0: none)")
    p.add_argument("--patience", type=int, default=3, help="stop after this many validations without a better MRR@20")
    p.add_argument("--threads", type=int, default=0, help="torch threads per process (0: torch's default)")
    p.add_argument("--contrastive", type=float, default=0.0, help="weight of DuoRec's contrastive term on whole sequences (0: none; hunch_torch/contrastive.py)")
    p.add_argument("--contrastive-scale", type=float, default=0.0, help="its cosine similarities' scale, 1/temperature (0: --cosine-scale, or 1 without)")
    p.add_argument("--distil", type=float, default=0.0, help="weight of session-kNN's soft targets (0: none; hunch_torch/distil.py; `hunch soft-targets` writes them)")
    p.add_argument("--distil-targets", default=None, metavar="DIR", help="the directory of soft-targets.json (default: --shards)")
    p.add_argument("--distil-k", type=int, default=0, help="soft items per position, each row's best (0: all the file has)")
    p.add_argument("--distil-temperature", type=float, default=1.0, help="soft targets as p^(1/T), renormalised (1: session-kNN's normalised scores)")
    # Tests of the time budget on a machine that slows down: every step after STEP sleeps SECONDS more.
    p.add_argument("--slow-down", default=None, metavar="STEP:SECONDS", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    slow_after, slow_by = (int(args.slow_down.split(":")[0]), float(args.slow_down.split(":")[1])) if args.slow_down else (None, 0.0)
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

    manifest, train, validation = read_shards(args.shards)
    vocabulary = manifest["vocabulary"]
    V = len(vocabulary)
    sources = [i for i, s in enumerate(train) if len(s) >= 2]  # each row's training sequence
    rows = [train[i][: args.context + 1] for i in sources]
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
    model = NextItemGPT2(config, heads, args.dropout, args.attn_dropout).to(device)
    if args.no_positions:
        model.transformer.wpe.weight.data.zero_()
        model.transformer.wpe.weight.requires_grad_(False)
    torch.manual_seed(args.seed * 7919 + rank)  # dropout masks: each process its own
    trained = NextItemLoss(model, is_item.to(device), args.contrastive_scale or args.cosine_scale or 1.0)
    partners = PositivePartners(rows) if args.contrastive > 0 else None
    soft = SoftTargets(args.distil_targets or args.shards, train, V, args.distil_k, args.distil_temperature) if args.distil > 0 else None
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
    validator = None
    if validation and args.validate_every > 0:
        validator = Validator(validation, args.context, is_item, Scoring.of(manifest))
        mine_units = validator.units[rank::world]
    every = args.validate_every if validator else 0
    log(
        f"training next-item GPT-2 on PyTorch {torch.__version__}: {args.layers} layers, n_embd {args.embd}, {args.heads} heads, context {args.context}, "
        f"vocab {V}, {params:,} parameters; {len(rows)} sequences, {total} steps ({args.epochs} epochs), "
        f"{f'{K} sampled negatives' if args.negatives > 0 else 'full softmax'}, {world} process{'es' if world > 1 else ''} on {device.type}"
        f"{f' ({dist.get_backend()})' if world > 1 else ''}, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''} each; "
        + (f"validation on {len(validation)} sequences ({len(validator.units)} units) every {every} steps, patience {args.patience}" if validator else "no validation")
        + (f"; distilling session-kNN: weight {args.distil}, {soft.k} items a position, temperature {args.distil_temperature}, {soft.covered} positions with targets" if soft else "")
    )

    def validate(units=None):
        """(HR@20, MRR@20, examples) over this process's units (or `units`), summed over the processes."""
        sums = torch.tensor(validator.sums(model, mine_units if units is None else units), dtype=torch.float64)
        if world > 1:
            dist.all_reduce(sums)
        hits, reciprocal, n = sums.tolist()
        return hits / max(n, 1), reciprocal / max(n, 1), int(n)

    def time_validation():
        """Seconds one validation takes: a tenth of the units (at least 256), scaled by examples to all of them."""
        size = min(len(mine_units), max(256, -(-len(mine_units) // 10)))
        sample = [mine_units[(i * len(mine_units)) // size] for i in range(size)]
        t0 = time.perf_counter()
        validator.sums(model, sample)
        examples = lambda units: sum(len(u[1]) for u in units)
        return (time.perf_counter() - t0) * examples(mine_units) / max(1, examples(sample))

    schedule = Schedule(args.lr, args.min_lr_ratio)
    budget = args.time_budget * 60
    model.train()
    started = time.perf_counter()
    first_done = None
    tokens = 0
    losses = []
    lrs = []
    step = 0
    elapsed = 0.0  # seconds since the start as rank 0 measured them after the last step (every process uses its)
    per_step = per_eval = None
    warm_end = None  # elapsed when warmup ended: the time's share of the decay counts from there
    check_at = None
    mark = None
    eval_seconds = 0.0  # validations since the first step, left out of the per-step timing
    evals = 0
    last = total == 1
    limited = ran_out = stopped_early = False
    tracker = BestWeights()
    while step < total:
        step_started = time.perf_counter()
        picked = next(batches)
        batch = [rows[i] for i in picked]
        if args.negatives > 0:
            negatives, log_kq = sampler.sample(K, args.seed, step)
        else:
            negatives, log_kq = candidates, torch.zeros(K)
        normalizer = sum(len(r) - 1 for r in batch)
        mine = batch[rank::world]
        # A process with no row of a small batch still takes part (DDP needs every one), weighing nothing.
        scale = world / normalizer if mine else 0.0
        ids, targets = pad_rows(mine or batch[:1], device)
        contrast = None
        if partners is not None:
            # The contrastive mean over this process's 2B views, weighted in units of the next-item loss's sum.
            mine_rows = picked[rank::world] or picked[:1]
            views = [rows[j] for j in partners.draw(mine_rows, args.seed, step)]
            labels = torch.tensor([int(rows[i][-1]) for i in mine_rows], device=device)
            contrast = (views, labels, args.contrastive * normalizer / (world * 2 * len(mine_rows)))
        distil = None
        if soft is not None:
            mine_rows = picked[rank::world] or picked[:1]
            distil = (*soft.batch([sources[i] for i in mine_rows], [len(rows[i]) for i in mine_rows], ids.shape[1], device), args.distil)
        loss_sum, ce_sum = step_module(ids, targets, negatives.to(device), log_kq.to(device), contrast, distil)
        (loss_sum * scale).backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        # With a time budget, the decay also follows the time: at the budget's end it is at the floor.
        time_progress = (elapsed + per_step - warm_end) / max(1e-9, budget - warm_end) if warm_end is not None else 0.0
        lr = schedule.lr(step, total, time_progress, last)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if slow_after is not None and step >= slow_after:
            time.sleep(slow_by)
        step += 1
        tokens += normalizer
        loss = reduce_sum(ce_sum.detach() * (1.0 if mine else 0.0), world) / normalizer  # the next-item loss alone
        losses.append(loss)
        lrs.append(lr)
        step_seconds = time.perf_counter() - step_started
        if step == 1:
            first_done = time.perf_counter()
        entry = None
        if validator and (step % every == 0 or step == total):
            t0 = time.perf_counter()
            hit, mrr, examples = validate()
            eval_seconds += time.perf_counter() - t0
            evals += 1
            entry = tracker.record(model, step, hit, mrr, lr=lr, seconds=round(time.perf_counter() - started, 3))
        now = time.perf_counter()
        elapsed = broadcast(now - started, world)
        if budget > 0 and step < total and per_step is None and (step == min(21, total - 1) or (step >= 2 and elapsed >= 0.1 * budget)):
            # Calibrate on the steps after the first (it pays for warming up), then fix the steps so the rest fits.
            per_step = broadcast(((now - first_done) - eval_seconds) / (step - 1) if step > 1 else elapsed / step, world)
            per_eval = broadcast(time_validation(), world) if validator else 0.0
            elapsed = broadcast(time.perf_counter() - started, world)
            total, every, limited = plan_budget(budget - elapsed, per_step, per_eval, step, cap, args.validate_every if validator else 0)
            check_at = next_check(step, total)
            mark = (elapsed, step, eval_seconds, evals)
            log(
                f"time budget {args.time_budget} min: {per_step * 1000:.0f} ms a step" + (f", {per_eval:.1f} s a validation (timed on a sample)" if validator else "")
                + f" -> {total} steps, {total / planned * args.epochs:.2f} epochs" + (f", validation every {every} steps" if validator else "")
            )
        elif budget > 0 and step == check_at:
            # A quarter of the steps left later: the speed since the last plan sets the steps again (the schedule follows).
            since = evals - mark[3]
            per_step = broadcast(((elapsed - mark[0]) - (eval_seconds - mark[2])) / (step - mark[1]), world)
            per_eval = broadcast((eval_seconds - mark[2]) / since, world) if since else per_eval
            before = total
            total, every, limited = plan_budget(budget - elapsed, per_step, per_eval, step, cap, args.validate_every if validator else 0)
            check_at = next_check(step, total)
            mark = (elapsed, step, eval_seconds, evals)
            if total != before:
                log(f"time budget checked at step {step}: {per_step * 1000:.0f} ms a step -> {total} steps instead of {before}, {total / planned * args.epochs:.2f} epochs")
        if warm_end is None and per_step is not None and step >= schedule.warmup(total):
            warm_end = elapsed
        # The slower of the planned speed and this step's: a machine that slows down between checks is seen at once.
        recent = max(per_step, broadcast(step_seconds, world)) if budget > 0 and per_step is not None else None
        if recent is not None and not last and step < total - 1 and budget - elapsed < 2 * recent + (per_eval or 0):
            # Slower than planned: the next step is the last that fits, at the schedule's floor.
            log(f"time budget: step {step + 1} is the last that fits (of {total} planned): the schedule ends there")
            total = step + 1
        last = step == total - 1
        log_every = max(1, min(50, total // 100))
        if step % log_every == 0 or step == total or entry:
            rate = tokens / (now - started - eval_seconds)
            log(
                f"step {step}/{total}  loss {np.mean(losses[-log_every:]):.4f}  lr {lr:.2e}  {rate:,.0f} tok/s  {now - started:.0f} s"
                + (f"  val MRR@20 {entry['mrr20']:.4f} HR@20 {entry['hr20']:.4f} (best {tracker.mrr:.4f} @{tracker.step})" if entry else "")
            )
        if entry and tracker.bad >= args.patience:
            stopped_early = True
            log(f"stopping early at step {step}: no better validation MRR@20 for {tracker.bad} evaluations")
            break
        if budget > 0 and step < total and elapsed >= budget:
            ran_out = True  # only before the steps were timed: afterwards the last step is planned to fit
            log(f"time budget spent at step {step} of {total}: stopping")
            break

    if validator and (not tracker.history or tracker.history[-1]["step"] != step):
        # Stopped by the time before a validation (or planned no step past the calibration): the last weights count too.
        t0 = time.perf_counter()
        hit, mrr, _ = validate()
        eval_seconds += time.perf_counter() - t0
        tracker.record(model, step, hit, mrr, lr=lr, seconds=round(time.perf_counter() - started, 3))
    seconds = time.perf_counter() - started
    training_seconds = seconds - eval_seconds
    # Tokens a second after the first step (which pays for warming up), validations left out, as the throughput to compare.
    steady = (tokens - first_batch_tokens(plans, rows)) / (time.perf_counter() - first_done - eval_seconds) if step > 1 else tokens / training_seconds
    kept = tracker.step if tracker.weights is not None else step
    if tracker.weights is not None:
        model.load_state_dict(tracker.weights)
    summary = {
        "engine": f"pytorch {torch.__version__}",
        "processes": world,
        "device": device.type,
        "threads_per_process": torch.get_num_threads(),
        "steps": step,
        "kept_step": kept,
        "epochs": step / planned * args.epochs,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "validation_seconds": round(eval_seconds, 3),
        "tokens_per_second": round(tokens / training_seconds),
        "tokens_per_second_after_first_step": round(steady),
        "final_loss": float(np.mean(losses[-20:])),
        "last_lr": lrs[-1],
        "last_grad_norm": grad_norm,
        "stopped_early": stopped_early,
        "time_limited": limited,
        "ran_out": ran_out,
        "distil": {"weight": args.distil, "k": soft.k, "temperature": args.distil_temperature} if soft else None,
        "validation": {"best_step": tracker.step, "mrr20": tracker.mrr, "hr20": tracker.hit, "evaluations": len(tracker.history)} if validator else None,
    }
    if rank == 0:
        training = {
            "engine": summary["engine"],
            "processes": world,
            "events": manifest.get("events", sum(len(s) for s in train)),
            "sequences": len(rows),
            "steps": step,
            "keptStep": kept,
            "epochs": summary["epochs"],
            # The kept weights' loss: the mean of the (up to) 20 steps ending at the kept step.
            "finalLoss": float(np.mean(losses[max(0, kept - 20) : kept])),
            "seed": args.seed,
            "skippedLines": manifest.get("skippedLines", 0),
            "batch": args.batch_tokens,
            "learningRate": args.lr,
            "softmax": K if args.negatives > 0 else "full",
            "validation": (
                {"sequences": len(validation), "mrr20": tracker.mrr, "hr20": tracker.hit, "every": args.validate_every, "patience": args.patience, "stoppedEarly": stopped_early, "history": tracker.history}
                if validator
                else None
            ),
            "base": None,
            "seconds": summary["seconds"],
            "tokensPerSecond": summary["tokens_per_second"],
        }
        write_checkpoint(args.out, model.cpu(), manifest, training)
        log(f"checkpoint -> {args.out}" + (f" (weights of step {kept}, the best validation MRR@20 {tracker.mrr:.4f})" if validator else ""))
        print(json.dumps(summary), flush=True)
    if world > 1:
        # Every process ends together: rank 0 writes the checkpoint after the last step, and a
        # process group torn down while another rank still works could hang torch 1.13's gloo.
        dist.barrier()
        dist.destroy_process_group()


class NextItemLoss(torch.nn.Module):
    """The model and its loss as one module, so DDP's forward sees every parameter."""

    def __init__(self, model, is_item, contrastive_scale=1.0):
        super().__init__()
        self.model = model
        self.is_item = is_item  # not a buffer: gloo cannot broadcast bool tensors, and it never changes
        self.contrastive_scale = contrastive_scale

    def forward(self, ids, targets, negatives, log_kq, contrast=None, distil=None):
        """(the loss to minimise, the next-item loss in it); contrast: (second views' rows, next items, weight) or None;
        distil: (soft item ids, their weights, the term's weight) or None."""
        soft = distil[:2] if distil is not None else None
        if contrast is None:
            ce_sum, _, distil_sum = next_item_loss_sum(self.model, ids, targets, self.is_item, negatives, log_kq, soft=soft)
            return ce_sum + (distil[2] * distil_sum if distil is not None else 0.0), ce_sum
        hidden = self.model.hidden(ids)
        ce_sum, _, distil_sum = next_item_loss_sum(self.model, ids, targets, self.is_item, negatives, log_kq, hidden, soft)
        ce_sum_total = ce_sum + distil[2] * distil_sum if distil is not None else ce_sum
        views, labels, weight = contrast
        first = hidden[torch.arange(len(ids), device=ids.device), (targets != 0).sum(1) - 1]
        second = last_hidden(self.model, views, ids.device, ids.shape[1] + 1)
        return ce_sum_total + weight * info_nce_sum(first, second, labels, self.contrastive_scale), ce_sum


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
