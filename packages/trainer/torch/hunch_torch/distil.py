"""Distilling session-kNN into the model (train.py --distil): a soft-target term beside the
next-item loss, with the soft targets `hunch soft-targets` computes once per shard set
(packages/trainer/src/soft-targets.ts: per training position, session-kNN's best items and
their normalised scores, the prefix's own session left out).

At a position with soft targets p over items c_1..c_k, the term is the cross-entropy of the
model's softmax against p, with the same sampled estimate of the partition Z the next-item
loss uses (loss.py): Σ_j p_j (log Z - s(c_j)). The items are scored as the loss scores its
positives (repeat bonus when in the prefix, item bias): they are extra, weighted positives.
A batch row's positions share most of their soft items, so the batch gives each row the union
of its positions' items and a weight per position over them (loss.py scores them in one
product a row).
--distil-k keeps each row's best k (rows are best first), --distil-temperature T sharpens
(T < 1) or flattens (T > 1) p as p^(1/T), renormalised.
"""
import json
import os

import numpy as np
import torch

FORMAT = "hunch-soft-targets"
VERSION = 1


class SoftTargets:
    def __init__(self, directory, train, vocabulary, k=0, temperature=1.0):
        """`train`: the shards' training sequences, all of them, in shard order (the file's positions follow them);
        `vocabulary`: its size."""
        self.vocabulary = vocabulary
        path = os.path.join(directory, "soft-targets.json")
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise ValueError(f"{path}: not a {FORMAT} version {VERSION} manifest")
        lengths = np.array([len(s) for s in train], dtype=np.int64)
        positions = int(np.maximum(lengths - 1, 0).sum())
        if manifest["sequences"] != len(train) or manifest["positions"] != positions:
            raise ValueError(
                f"{path}: made for {manifest['sequences']} sequences ({manifest['positions']} positions), "
                f"the shards have {len(train)} ({positions}): run `hunch soft-targets` on these shards"
            )
        if not (temperature > 0):
            raise ValueError(f"--distil-temperature must be positive, got {temperature}")
        self.file_k = int(manifest["k"])
        self.k = min(k, self.file_k) if k > 0 else self.file_k
        self.temperature = temperature
        data = os.path.join(directory, manifest["file"])
        expected = positions * self.file_k * 8
        if os.path.getsize(data) != expected:
            raise ValueError(f"{data}: {os.path.getsize(data)} bytes, expected {expected} for {positions} positions x {self.file_k} items")
        self.ids = np.memmap(data, dtype="<i4", mode="r", shape=(positions, self.file_k))
        self.weights = np.memmap(data, dtype="<f4", mode="r", offset=positions * self.file_k * 4, shape=(positions, self.file_k))
        self.starts = np.concatenate([[0], np.cumsum(np.maximum(lengths - 1, 0))[:-1]]).astype(np.int64)
        self.covered = int(manifest.get("covered", positions))

    def batch(self, sources, lengths, T, device=None):
        """(items [B, U] long, weights [B, T, U] float) for rows cut from training sequences `sources` to
        `lengths` tokens (lengths - 1 positions each): each row's soft items (the union over its positions,
        padded with 0) and each position's weights over them (0 where absent, and at padded positions)."""
        B, k = len(sources), self.k
        counts = np.asarray(lengths, dtype=np.int64) - 1
        row = np.repeat(np.arange(B), counts)
        t = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
        at = self.starts[np.asarray(sources, dtype=np.int64)][row] + t
        ids = np.asarray(self.ids[at, :k], dtype=np.int64)
        w = np.asarray(self.weights[at, :k], dtype=np.float64)
        if self.temperature != 1.0:
            w = np.where(w > 0, w, 0.0) ** (1.0 / self.temperature)
        total = w.sum(-1, keepdims=True)
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)
        used = w > 0
        # One unique over (row, item) keys: each row's items, sorted, and every weight's column among them.
        keys = row[:, None] * self.vocabulary + ids
        unique, inverse = np.unique(keys[used], return_inverse=True)
        key_row = unique // self.vocabulary
        first = np.searchsorted(key_row, np.arange(B))
        column = np.arange(len(unique)) - first[key_row]
        U = max(1, int(np.bincount(key_row, minlength=B).max()) if len(unique) else 1)
        items = np.zeros((B, U), dtype=np.int64)
        items[key_row, column] = unique % self.vocabulary
        weights = np.zeros((B, T, U), dtype=np.float32)
        weights[row[:, None].repeat(k, 1)[used], t[:, None].repeat(k, 1)[used], column[inverse]] = w[used]
        return torch.from_numpy(items).to(device), torch.from_numpy(weights).to(device)
