/**
 * train.py --distil (hunch_torch/distil.py, loss.py's soft-target term): session-kNN's soft
 * targets, as `hunch soft-targets` writes them, read back per batch row (the union of its
 * positions' items, a weight per position), scored as the loss scores its positives, and
 * trained on only when the flag's weight is above 0.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorMap } from '../src/safetensors.js';
import { buildCli, type Cli } from './cli-helpers.js';
import { python, pythonJson, simulatedShards, summaryOf, weightsOf } from './torch-helpers.js';

const TRAIN = ['train.py', '--layers', '1', '--embd', '16', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--negatives', '32', '--dropout', '0', '--max-steps', '3', '--validate-every', '0', '--seed', '5'];

let work: string;
let cli: Cli;
let shards: string;
let otherShards: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-distil-'));
  cli = await buildCli('torch-distil');
  await Promise.all(['a', 'b'].map((d) => mkdir(join(work, d))));
  shards = (await simulatedShards(cli, join(work, 'a'), 200, 7)).shards;
  otherShards = (await simulatedShards(cli, join(work, 'b'), 150, 8)).shards;
  for (const dir of [shards, otherShards]) {
    const made = await cli.run(['soft-targets', '--shards', dir, '--k', '8']);
    if (made.code !== 0) throw new Error(`hunch soft-targets exited ${made.code}: ${made.stderr.trim()}`);
  }
}, 180_000);
afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the soft-target term', () => {
  it('is the next-item loss itself when each position\'s only soft target is its next item (repeat bonus and bias included)', { timeout: 60_000 }, async () => {
    const [ce, distil, repeats, halved] = (await pythonJson(`
import json, torch
from hunch_torch.loss import next_item_loss_sum
from hunch_torch.model import Config, Heads, NextItemGPT2
torch.manual_seed(0)
V = 30
model = NextItemGPT2(Config(V, 16, 16, 1, 2), Heads(True, True, 12.0)).eval()
with torch.no_grad():
    model.lm_head.bias.normal_()  # a bias and a repeat bonus the term must score too
    model.hunch["repeat"].weight.normal_()
    model.hunch["repeat"].bias.fill_(1.0)
is_item = torch.arange(V) >= 2
ids = torch.tensor([[1, 5, 6, 5, 7, 8], [1, 9, 9, 4, 0, 0]])
targets = torch.tensor([[5, 6, 5, 7, 6, 5], [9, 9, 4, 3, 0, 0]])
negatives = torch.arange(2, 22)
log_kq = torch.full((20,), 0.3)
items = torch.tensor([[5, 6, 7], [9, 4, 3]])
weights = (targets.unsqueeze(-1) == items.unsqueeze(1)).float() * (targets != 0).unsqueeze(-1)
with torch.no_grad():
    ce, n, distil = next_item_loss_sum(model, ids, targets, is_item, negatives, log_kq, soft=(items, weights))
    _, _, half = next_item_loss_sum(model, ids, targets, is_item, negatives, log_kq, soft=(items, weights * 0.5))
repeats = int(sum(int(targets[b, t]) in ids[b, : t + 1].tolist() for b in range(2) for t in range(6) if targets[b, t] != 0))
print(json.dumps([float(ce), float(distil), repeats, float(half)]))
`)) as number[];
    expect(repeats).toBeGreaterThan(0); // targets already in the prefix: the bonus is part of the check
    expect(distil).toBeCloseTo(ce!, 4);
    expect(halved).toBeCloseTo(ce! / 2, 4);
  });

  it('reads each row\'s positions from the file in shard order, with --distil-k and --distil-temperature applied', { timeout: 120_000 }, async () => {
    const [checked, mismatches] = (await pythonJson(`
import json, numpy as np
from hunch_torch.shards import read_shards
from hunch_torch.distil import SoftTargets
manifest, train, _ = read_shards(${JSON.stringify(shards)})
V = len(manifest["vocabulary"])
checked = mismatches = 0
for k, temperature in ((0, 1.0), (3, 1.0), (8, 0.5)):
    soft = SoftTargets(${JSON.stringify(shards)}, train, V, k, temperature)
    whole = np.fromfile(${JSON.stringify(join(shards, 'soft-targets.bin'))}, dtype="<i4")
    P = len(whole) // 16
    file_ids, file_w = whole[: P * 8].reshape(P, 8), whole[P * 8 :].view("<f4").reshape(P, 8)
    sources = [s for s in range(len(train)) if len(train[s]) >= 2][5:25]
    lengths = [min(len(train[s]), 9) for s in sources]  # cut as train.py cuts rows to its context
    items, weights = soft.batch(sources, lengths, 10)
    start = 0
    for s in range(len(train)):
        if s in sources:
            b = sources.index(s)
            for t in range(10):
                got = {int(items[b, u]): float(weights[b, t, u]) for u in range(items.shape[1]) if weights[b, t, u] > 0}
                want = {}
                if t < lengths[b] - 1:
                    w = file_w[start + t][: (k or 8)].astype(np.float64) ** (1 / temperature)
                    want = {int(i): x / w.sum() for i, x in zip(file_ids[start + t][: (k or 8)], w) if x > 0}
                checked += 1
                mismatches += set(got) != set(want) or any(abs(got[i] - want[i]) > 1e-6 for i in want)
        start += max(0, len(train[s]) - 1)
print(json.dumps([checked, int(mismatches)]))
`)) as number[];
    expect(checked).toBe(3 * 20 * 10);
    expect(mismatches).toBe(0);
  });
});

describe('train.py --distil', () => {
  it('trains other weights with the term, the same without it as with weight 0, and logs the next-item loss alone', { timeout: 300_000 }, async () => {
    const plainRun = await python([...TRAIN, '--shards', shards, '--out', join(work, 'plain')]);
    const zero = summaryOf(await python([...TRAIN, '--distil', '0', '--shards', shards, '--out', join(work, 'zero')]));
    const run = await python([...TRAIN, '--distil', '0.5', '--distil-k', '4', '--shards', shards, '--out', join(work, 'distil')]);
    const plain = summaryOf(plainRun);
    const distil = summaryOf(run);
    expect(zero.final_loss).toBe(plain.final_loss);
    expect(run.stdout).toMatch(/distilling session-kNN: weight 0\.5, 4 items a position/);
    const [a, b, c] = await Promise.all(['plain', 'zero', 'distil'].map((d) => weightsOf(join(work, d))));
    const wte = (t: TensorMap) => Array.from(t.get('transformer.wte.weight')!.data);
    expect(wte(b!)).toEqual(wte(a!));
    expect(wte(c!)).not.toEqual(wte(a!));
    const firstLoss = (stdout: string) => Number(/^step 1\/\d+\s+loss (\S+)/m.exec(stdout)![1]);
    expect(firstLoss(run.stdout)).toBe(firstLoss(plainRun.stdout));
    expect(distil.final_loss).not.toBe(plain.final_loss);
  });

  it('refuses, in one line, soft targets made for other shards or missing', { timeout: 120_000 }, async () => {
    const other = await python([...TRAIN, '--distil', '1', '--distil-targets', otherShards, '--shards', shards, '--out', join(work, 'other')]);
    expect(other.code).toBe(1);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(other.stderr).toMatch(/^error: .*soft-targets\.json: made for \d+ sequences .* run `hunch soft-targets` on these shards/);
    const missing = await python([...TRAIN, '--distil', '1', '--distil-targets', join(work, 'none'), '--shards', shards, '--out', join(work, 'missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});
