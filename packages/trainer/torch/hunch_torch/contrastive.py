"""A contrastive term beside the next-item loss (DuoRec, WSDM 2022): the representation of a
whole training sequence (its last hidden state, with dropout) is pulled towards a second view
of it and pushed from the other sequences of the batch.

The second view is another training sequence with the same next item (DuoRec's supervised
positive) where one exists, else the same sequence under another dropout mask (its
unsupervised one). InfoNCE over the 2B views of a batch (SimCLR's NT-Xent): each view's
positive is its pair, its negatives the 2B - 2 others, less those with the same next item.
Similarities are cosines times `scale` (the model's cosine scoring τ by default). A partner
longer than the batch's rows keeps its latest tokens (as many as the longest row), so the
second forward costs no more than the first: batches group rows of similar length, and a
random partner padded to the context would cost up to its length over theirs (2.9x a step).
"""
import numpy as np
import torch
import torch.nn.functional as F

from .loss import MASKED, pad_rows


class PositivePartners:
    """For each training row, the other rows whose last token (next item) is the same."""

    def __init__(self, rows):
        last = np.array([int(r[-1]) for r in rows], dtype=np.int64)
        order = np.argsort(last, kind="stable")
        self.last = last
        self.order = order
        self.starts = np.searchsorted(last[order], last, side="left")
        self.ends = np.searchsorted(last[order], last, side="right")

    def draw(self, indices, seed, step):
        """One partner row per index: a random other row with its next item, or itself when none (the dropout view)."""
        rng = np.random.default_rng([seed, step, 0xD0C])
        out = []
        for i in indices:
            lo, hi = self.starts[i], self.ends[i]
            if hi - lo <= 1:
                out.append(i)
                continue
            j = self.order[lo + rng.integers(hi - lo - 1)]
            out.append(j if j != i else self.order[hi - 1])  # skip itself: draw among the others
        return out


def last_hidden(model, rows, device, longest=None):
    """[B, D]: each row's hidden state after its last input token (the sequence before its last target),
    rows cut to their latest `longest` tokens (targets included) when given."""
    ids, targets = pad_rows([r[-longest:] for r in rows] if longest else rows, device)
    hidden = model.hidden(ids)
    last = (targets != 0).sum(1) - 1
    return hidden[torch.arange(len(rows), device=device), last]


def info_nce_sum(z1, z2, labels, scale):
    """Σ over the 2B views of NT-Xent: z1[i] and z2[i] are positives; views with the same label are not negatives."""
    B = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    sim = scale * (z @ z.t())  # [2B, 2B]
    both = torch.cat([labels, labels])
    pair = torch.arange(2 * B, device=z.device).roll(B)
    same = both.unsqueeze(0) == both.unsqueeze(1)
    same[torch.arange(2 * B), pair] = False  # the pair stays: it is the positive
    sim = sim.masked_fill(same, MASKED)  # itself, and views of the same next item
    return F.cross_entropy(sim, pair, reduction="sum")
