"""For the parity tests with TensorFlow.js: a checkpoint's logits, next-item loss and gradients
on one batch, as JSON on stdout.

  python3 -m hunch_torch.probe CHECKPOINT_DIR BATCH_JSON
  BATCH_JSON: {"rows": [[token ids], ...], "negatives": [...], "logKQ": [...]}
  prints {"logits": [B*T*V], "lossSum": s, "targets": n, "grads": {name: [values]}}
"""
import json
import sys

import torch

from .checkpoint import read_checkpoint
from .loss import next_item_loss_sum, pad_rows


def main(directory, batch_path):
    torch.set_num_threads(1)
    model, metadata = read_checkpoint(directory)
    model.eval()  # no dropout
    with open(batch_path, encoding="utf-8") as f:
        batch = json.load(f)
    is_item = torch.tensor([t.startswith("item:") for t in metadata["vocabulary"]], dtype=torch.bool)
    ids, targets = pad_rows(batch["rows"])
    negatives = torch.tensor(batch["negatives"], dtype=torch.long)
    log_kq = torch.tensor(batch["logKQ"], dtype=torch.float32)
    loss_sum, count, _ = next_item_loss_sum(model, ids, targets, is_item, negatives, log_kq)
    loss_sum.backward()
    with torch.no_grad():
        logits = model.lm_logits(ids)
    grads = {name: p.grad.flatten().tolist() for name, p in model.named_parameters() if p.grad is not None}
    json.dump({"logits": logits.flatten().tolist(), "lossSum": float(loss_sum), "targets": count, "grads": grads}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
