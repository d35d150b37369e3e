"""What a training step draws: batches of sequences of similar length (the port of
packages/trainer/src/train/epoch-plan.ts) and the shared sampled negatives
(next-item/negatives.ts: q ∝ (count + 1)^0.75 over the items, with log(K q) for the
correction). Both are functions of the seed, the epoch or the step only, so every process
of a distributed run draws the same ones without talking."""
import numpy as np
import torch


def plan_epoch(lengths, batch_tokens, seed, epoch):
    """Shuffled, sorted by length within chunks of 4096, cut into batches of at most
    batch_tokens (rows x longest input), batches shuffled. Returns lists of row indices."""
    rng = np.random.default_rng([seed, epoch, 0xE90C])
    order = rng.permutation(len(lengths))
    batches = []
    for c in range(0, len(order), 4096):
        part = sorted(order[c : c + 4096].tolist(), key=lambda i: (lengths[i], i))
        batch, longest = [], 0
        for i in part:
            n = lengths[i] - 1
            if batch and (len(batch) + 1) * max(longest, n) > batch_tokens:
                batches.append(batch)
                batch, longest = [], 0
            batch.append(i)
            longest = max(longest, n)
        if batch:
            batches.append(batch)
    return [batches[i] for i in rng.permutation(len(batches))]


class NegativeSampler:
    def __init__(self, counts, is_item, power=0.75):
        weights = torch.where(is_item, (counts.double() + 1) ** power, torch.zeros_like(counts, dtype=torch.float64))
        self.q = weights / weights.sum()
        self.log_q = self.q.log().float()

    def sample(self, k, seed, step):
        """K negatives and their log(K q), the same in every process for this (seed, step)."""
        g = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, step, 0x4E6]).generate_state(1)[0]))
        negatives = torch.multinomial(self.q, k, replacement=True, generator=g)
        return negatives, self.log_q[negatives] + float(np.log(k))
