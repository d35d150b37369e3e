"""A wall-clock time budget for training (the port of packages/trainer/src/train/budget.ts):
how many steps fit, validations included, from the measured seconds per step and per
validation, and the learning-rate schedule laid over them. Pure arithmetic; train.py measures.
"""
import math


def _cost(remaining_steps_from, total, every, per_step, per_eval):
    """Predicted seconds of steps done+1..total, with a validation every `every` steps and at the end."""
    done = remaining_steps_from
    steps = total - done
    if steps <= 0:
        return 0.0
    evals = (total // every - done // every + (0 if total % every == 0 else 1)) if every > 0 else 0
    return steps * per_step + evals * per_eval


def plan_budget(remaining, per_step, per_eval, done, cap, every, min_evals=4, max_eval_share=0.2):
    """(total steps, validation interval, whether time set the total): the most steps (at most
    `cap`) whose predicted time fits `remaining` seconds. A short run validates more often (at
    least `min_evals` times) while that costs at most `max_eval_share` of the time."""
    if not per_step > 0:
        raise ValueError(f"plan_budget: seconds per step must be > 0, got {per_step}")
    affordable = max(1, math.floor(max_eval_share * max(0.0, remaining) / per_eval)) if per_eval > 0 else math.inf

    def every_for(total):
        if every <= 0:
            return 0
        often = max(1, min(every, total // min_evals))
        return max(often, math.ceil(total / affordable)) if affordable != math.inf else often

    if _cost(done, cap, every, per_step, per_eval) <= remaining:
        return cap, every, False
    lo, hi = done, cap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _cost(done, mid, every_for(mid), per_step, per_eval) <= remaining:
            lo = mid
        else:
            hi = mid
    return lo, every_for(lo), True


def next_check(at, total):
    """The step to time the run again: a quarter of the steps left later, while over 20 steps and 5% of the run are left."""
    check = at + max(1, round((total - at) / 4))
    return check if total - at > max(20, 0.05 * total) and check < total else None


class Schedule:
    """Linear warmup, then cosine decay from `peak` to `peak * min_ratio` (train/optimizer.ts
    warmupCosine), whose progress is the further of the steps' (the last planned step at the
    floor) and, with a time budget, the time's after warmup (the end of the budget at the
    floor): a run that slows down after its steps were planned still decays in time."""

    def __init__(self, peak, min_ratio=0.1, warmup_share=0.02):
        self.peak = peak
        self.min_ratio = min_ratio
        self.warmup_share = warmup_share

    def warmup(self, total):
        return max(1, round(total * self.warmup_share))

    def lr(self, step, total, time_progress=0.0, last=False):
        """The learning rate of step `step` (0-based) of `total`; `last`: the run's final step (the floor)."""
        warmup = self.warmup(total)
        if last:
            progress = 1.0
        elif step < warmup:
            return self.peak * (step + 1) / warmup
        else:
            progress = max(min(1.0, (step - warmup) / max(1, total - 1 - warmup)), min(1.0, time_progress))
        return self.peak * (self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
