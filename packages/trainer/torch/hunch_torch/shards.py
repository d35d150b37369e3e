"""Token shards as `hunch shards` writes them (packages/trainer/src/shards.ts):

  DIR/shards.json   {"format": "hunch-shards", "version": 1, "vocabulary": [...], "bos": 1, "pad": 0,
                     "itemCounts": {...}, "train": ["train-00000.bin", ...], "validation": [...],
                     "validationScoring": {"minPosition", "lastOnly", "excludeSeen"} (optional), ...}
  DIR/*.bin         sequences one after another, each a uint32 length n then n uint32 token ids,
                    all little-endian; a token id indexes "vocabulary", the first is [BOS].
"""
import json
import os

import numpy as np

FORMAT = "hunch-shards"
VERSION = 1


def read_bin(path):
    """The sequences of one .bin file, each an int64 numpy array."""
    words = np.fromfile(path, dtype="<u4")
    sequences = []
    at = 0
    while at < len(words):
        n = int(words[at])
        if at + 1 + n > len(words):
            raise ValueError(f"{path}: a sequence of {n} tokens runs past the end of the file")
        sequences.append(words[at + 1 : at + 1 + n].astype(np.int64))
        at += 1 + n
    return sequences


def read_shards(directory):
    """(manifest, training sequences, validation sequences) of a shard directory."""
    path = os.path.join(directory, "shards.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(f"{path}: not a {FORMAT} version {VERSION} manifest")
    size = len(manifest["vocabulary"])
    parts = {}
    for split in ("train", "validation"):
        parts[split] = [s for name in manifest.get(split, []) for s in read_bin(os.path.join(directory, name))]
        for s in parts[split]:
            if len(s) and (s.max() >= size):
                raise ValueError(f"{directory}: token id {int(s.max())} is outside the vocabulary of {size}")
    return manifest, parts["train"], parts["validation"]
