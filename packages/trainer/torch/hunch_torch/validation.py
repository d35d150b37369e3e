"""Full-ranking validation metrics at K (every item ranked, never sampled), as the Node trainer
validates (packages/trainer/src/next-item/scorer.ts evaluate, eval/metrics.ts):

Every input position t >= min_position whose next token is an item is an example (with
last_only, only each sequence's last target); positions past the context see the last
`context` tokens. The target's rank counts the candidates (item tokens) scoring strictly
above it; items of the prefix get the repeat bonus, or with exclude_seen never outrank it.
HR@K is the share of examples ranked within K, MRR@K the mean of 1/rank (0 beyond K).
"""
from dataclasses import dataclass

import torch


@dataclass
class Scoring:
    """How a shard set's validation sequences are scored (shards.json "validationScoring")."""

    min_position: int = 1
    last_only: bool = False
    exclude_seen: bool = False

    @staticmethod
    def of(manifest):
        """From the manifest; shards written before the field existed hold sessions: position 1 on, every target."""
        s = manifest.get("validationScoring") or {}
        return Scoring(int(s.get("minPosition", 1)), bool(s.get("lastOnly", False)), bool(s.get("excludeSeen", False)))


def units_of(sequences, context, is_item, scoring):
    """Work units (row of tokens, positions in it, targets there), scorer.ts's, sorted by length."""
    units = []
    for s in sequences:
        seq = [int(x) for x in s]
        start = max(scoring.min_position, len(seq) - 2) if scoring.last_only else scoring.min_position
        positions = [t for t in range(start, min(len(seq) - 1, context)) if is_item[seq[t + 1]]]
        if positions:
            units.append((seq[:context], positions, [seq[t + 1] for t in positions]))
        for t in range(max(context, start), len(seq) - 1):
            if is_item[seq[t + 1]]:
                units.append((seq[t + 1 - context : t + 1], [context - 1], [seq[t + 1]]))
    units.sort(key=lambda u: len(u[0]))
    return units


class Validator:
    """Scores a model on fixed sequences; `share` of a distributed run: this process's units."""

    def __init__(self, sequences, context, is_item, scoring, k=20, batch_rows=512):
        self.is_item = is_item
        self.scoring = scoring
        self.k = k
        self.batch_rows = batch_rows
        self.units = units_of(sequences, context, is_item.tolist(), scoring)

    def sums(self, model, units=None):
        """(hits, reciprocal ranks, examples) within K, summed over the units (default all)."""
        units = self.units if units is None else units
        was_training = model.training
        model.eval()
        hits = reciprocal = 0.0
        examples = 0
        device = next(model.parameters()).device
        is_item = self.is_item.to(device)
        with torch.no_grad():
            table = model.item_table()
            bias = model.item_bias()
            base_row = torch.where(is_item, torch.zeros((), device=device), torch.full((), -1e9, device=device))
            if bias is not None:
                base_row = base_row + bias
            i = 0
            while i < len(units):
                chunk, count = [], 0
                while i < len(units) and count < self.batch_rows:
                    chunk.append(units[i])
                    count += len(units[i][1])
                    i += 1
                ranks = self._ranks(model, chunk, table, base_row, device)
                examples += len(ranks)
                within = ranks <= self.k
                hits += float(within.sum())
                reciprocal += float((within / ranks.double()).sum())
        model.train(was_training)
        return hits, reciprocal, examples

    def _ranks(self, model, chunk, table, base_row, device):
        """1-based ranks of the chunk's targets."""
        T = max(len(u[0]) for u in chunk)
        ids = torch.zeros(len(chunk), T, dtype=torch.long)
        for b, u in enumerate(chunk):
            ids[b, : len(u[0])] = torch.tensor(u[0])
        picks, targets, prefix_rows, prefix_items = [], [], [], []
        for b, (row, positions, ys) in enumerate(chunk):
            for t, y in zip(positions, ys):
                m = len(picks)
                picks.append(b * T + t)
                targets.append(y)
                for c in dict.fromkeys(x for x in row[: t + 1] if self.is_item[x]):
                    prefix_rows.append(m)
                    prefix_items.append(c)
        hidden = model.hidden(ids.to(device)).reshape(len(chunk) * T, -1)[torch.tensor(picks, device=device)]  # [M, D]
        scores = model.query(hidden) @ table.t() + base_row  # [M, V]
        bonus = model.repeat_bonus(hidden).squeeze(-1)  # [M]
        rows = torch.arange(len(picks), device=device)
        y = torch.tensor(targets, device=device)
        pr = torch.tensor(prefix_rows, dtype=torch.long, device=device)
        pc = torch.tensor(prefix_items, dtype=torch.long, device=device)
        if self.scoring.exclude_seen:
            target_score = scores[rows, y].clone()
            in_prefix = torch.zeros_like(target_score, dtype=torch.bool)
            in_prefix[pr[pc == y[pr]]] = True
            target_score = target_score + bonus * in_prefix
            scores[pr, pc] = -float("inf")  # history never outranks the target
        else:
            scores[pr, pc] += bonus[pr]
            target_score = scores[rows, y].clone()
        scores[rows, y] = -float("inf")  # the target never outranks itself
        return (scores > target_score.unsqueeze(1)).sum(1) + 1


class BestWeights:
    """The validation history, and the weights of the best MRR@K so far (a copy), with the
    evaluations since it that did not beat it (early stopping's count)."""

    def __init__(self):
        self.history = []
        self.weights = None
        self.step = 0
        self.mrr = -1.0
        self.hit = 0.0
        self.bad = 0

    def record(self, model, step, hit, mrr, **extra):
        entry = {"step": step, "mrr20": mrr, "hr20": hit, **extra}
        self.history.append(entry)
        if mrr > self.mrr:
            self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self.step, self.mrr, self.hit, self.bad = step, mrr, hit, 0
        else:
            self.bad += 1
        return entry
