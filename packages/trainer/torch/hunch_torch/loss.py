"""The next-item loss of packages/trainer/src/next-item/loss.ts, over a padded batch.

At every position t (every prefix is an example) with target y:
  loss = -s(y) + log( exp s(y) + Σ_prefix items p≠y exp s(p) + Σ_k exp(s(n_k) - log(K q(n_k))) )
The items of the prefix (first occurrences, up to t) are scored exactly, with the repeat
bonus; the rest of the vocabulary is estimated by K negatives shared by the whole batch,
with the logQ correction; negatives equal to the target or in the prefix are masked (they
are already counted). Returns the sum over targets: the caller divides.

With soft targets (distil.py), each position also adds Σ_j p_j (log Z - s(c_j)) for its soft
items c_j and weights p_j, log Z the same sampled estimate as the loss's; returned apart.
"""
import warnings

import numpy as np
import torch

# torch 1.13 calls scatter_reduce "beta" on every use; it is what first_hit needs.
warnings.filterwarnings("ignore", message=r"scatter_reduce\(\) is in beta")

MASKED = -1e9


def pad_rows(rows, device=None):
    """(inputs [B, T], targets [B, T]) from token sequences; 0 (PAD) marks no target."""
    T = max(len(r) for r in rows) - 1
    ids = np.zeros((len(rows), T), dtype=np.int64)
    targets = np.zeros((len(rows), T), dtype=np.int64)
    for b, r in enumerate(rows):
        ids[b, : len(r) - 1] = r[:-1]
        targets[b, : len(r) - 1] = r[1:]
    return torch.from_numpy(ids).to(device), torch.from_numpy(targets).to(device)


def next_item_loss_sum(model, ids, targets, is_item, negatives, log_kq, hidden=None, soft=None):
    """(Σ over targets of the loss above, targets, Σ of the soft-target term or 0). ids, targets [B, T];
    is_item [V] bool; negatives, log_kq [K]; hidden: the model's hidden states of ids when the caller
    has them already; soft: (soft items [B, U], their weights [B, T, U]) or None (distil.py)."""
    B, T = ids.shape
    K = negatives.shape[0]
    table = model.item_table()
    hidden = model.hidden(ids, table) if hidden is None else hidden  # [B, T, D]
    h = model.query(hidden)
    bonus = model.repeat_bonus(hidden)  # [B, T, 1]
    bias = model.item_bias()
    valid = targets != 0

    # First occurrences of item tokens, and which of them each position t may score (s <= t).
    same = ids.unsqueeze(2) == ids.unsqueeze(1)  # [B, s, s']
    earlier = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril(-1)  # s' < s
    first = is_item[ids] & ~(same & earlier).any(-1)  # [B, T]
    causal = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()  # [t, s]: s <= t
    in_prefix = causal & first.unsqueeze(1)  # [B, t, s]
    target_is_key = targets.unsqueeze(2) == ids.unsqueeze(1)  # [B, t, s]
    target_in_prefix = (in_prefix & target_is_key).any(-1, keepdim=True)  # [B, T, 1]

    target_score = (h * table[targets]).sum(-1, keepdim=True) + bonus * target_in_prefix
    prefix = h @ table[ids].transpose(1, 2) + bonus  # [B, t, s]
    negative = h @ table[negatives].t() - log_kq  # [B, T, K]
    if bias is not None:
        target_score = target_score + bias[targets].unsqueeze(-1)
        prefix = prefix + bias[ids].unsqueeze(1)
        negative = negative + bias[negatives]
    prefix = prefix.masked_fill(~(in_prefix & ~target_is_key), MASKED)

    # Negatives already counted: the target itself, or an item of the prefix up to t.
    hits = (ids.unsqueeze(2) == negatives.view(1, 1, -1)) & is_item[negatives].view(1, 1, -1)  # [B, T, K]
    b, t, k = hits.nonzero(as_tuple=True)  # few: the batch's items among the negatives
    first_hit = torch.full((B * K,), T, dtype=torch.long, device=ids.device)
    first_hit = first_hit.scatter_reduce(0, b * K + k, t, reduce="amin").view(B, K)
    seen = torch.arange(T, device=ids.device).view(1, T, 1) >= first_hit.unsqueeze(1)
    negative = negative.masked_fill(seen | (targets.unsqueeze(2) == negatives.view(1, 1, -1)), MASKED)

    logits = torch.cat([target_score, prefix, negative], dim=-1)
    log_z = torch.logsumexp(logits, dim=-1)  # [B, T]
    losses = log_z - target_score.squeeze(-1)
    distil = soft_target_sum(h, table, bias, bonus, ids, log_z, *soft) if soft is not None else losses.new_zeros(())
    return (losses * valid).sum(), int(valid.sum()), distil


def soft_target_sum(h, table, bias, bonus, ids, log_z, items, weights):
    """Σ over positions and soft items of p (log Z - s), s scored as a positive is (bonus when in the prefix).
    items [B, U]: each row's soft items (the union over its positions); weights [B, T, U]: p of each."""
    # One [T, D] x [D, U] product per row: a row's positions share most of their soft items, so
    # this is far less work than gathering k item vectors for every position.
    score = torch.bmm(h, table[items].transpose(1, 2))  # [B, T, U]
    if bias is not None:
        score = score + bias[items].unsqueeze(1)
    T = ids.shape[1]
    positions = torch.arange(T, device=ids.device)
    # In the prefix at t: first seen at a position <= t.
    first = torch.where(items.unsqueeze(2) == ids.unsqueeze(1), positions.view(1, 1, T), T).amin(-1)  # [B, U]
    score = score + bonus * (positions.view(1, T, 1) >= first.unsqueeze(1))
    return (weights * (log_z.unsqueeze(-1) - score)).sum()
