/**
 * train.py --contrastive (hunch_torch/contrastive.py, DuoRec's term): each sequence's second
 * view is another sequence with the same next item, or itself under new dropout when it has
 * none; InfoNCE pulls the pairs together and leaves same-next-item views out of the
 * negatives; the flag trains other weights, and weight 0 is the run without it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorMap } from '../src/safetensors.js';
import { buildCli, type Cli } from './cli-helpers.js';
import { python, pythonJson, simulatedShards, summaryOf, weightsOf } from './torch-helpers.js';

// No dropout: the second views then draw no masks, so any change in the weights is the term's gradient.
const TRAIN = ['train.py', '--layers', '1', '--embd', '16', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--negatives', '32', '--dropout', '0', '--max-steps', '3', '--validate-every', '0', '--seed', '5'];

let work: string;
let cli: Cli;
let shards: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-contrast-'));
  cli = await buildCli('torch-contrast');
  shards = (await simulatedShards(cli, work, 200, 7)).shards;
}, 120_000);
afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('contrastive views', () => {
  it('pairs each sequence with another of the same next item, never itself while one exists, and a lone next item with itself', { timeout: 60_000 }, async () => {
    // Rows 0, 1, 3 end in item 7; row 2 alone ends in 9.
    const draws = (await pythonJson(`
import json, numpy as np
from hunch_torch.contrastive import PositivePartners
p = PositivePartners([np.array(r) for r in ([1, 5, 7], [1, 3, 7], [1, 9], [1, 2, 7])])
print(json.dumps([[int(j) for j in p.draw([0, 1, 2, 3], 1, step)] for step in range(40)]))
`)) as number[][];
    const others: Record<number, Set<number>> = { 0: new Set(), 1: new Set(), 3: new Set() };
    for (const [a, b, c, d] of draws) {
      expect(c).toBe(2);
      others[0]!.add(a!);
      others[1]!.add(b!);
      others[3]!.add(d!);
    }
    expect([...others[0]!].sort()).toEqual([1, 3]);
    expect([...others[1]!].sort()).toEqual([0, 3]);
    expect([...others[3]!].sort()).toEqual([0, 1]);
  });

  it('cuts a longer partner to its latest tokens, as many as the batch\'s longest row, so the second forward is no longer than the first', { timeout: 60_000 }, async () => {
    const [shape, cutMatchesAlone, uncutDiffers] = (await pythonJson(`
import json, torch
from hunch_torch.contrastive import last_hidden
from hunch_torch.model import Config, Heads, NextItemGPT2
torch.manual_seed(0)
model = NextItemGPT2(Config(40, 32, 16, 1, 2), Heads(True, True, 12.0)).eval()
seen = []
hidden = model.hidden
model.hidden = lambda ids, table=None: (seen.append(list(ids.shape)), hidden(ids, table))[1]
short, long = [1, 5, 7], [1] + list(range(3, 23))
with torch.no_grad():
    cut = last_hidden(model, [short, long], 'cpu', 4)
    alone = last_hidden(model, [long[-4:]], 'cpu')
    whole = last_hidden(model, [long], 'cpu')
print(json.dumps([seen[0], bool(torch.allclose(cut[1], alone[0], atol=1e-6)), not bool(torch.allclose(cut[1], whole[0], atol=1e-3))]))
`)) as [number[], boolean, boolean];
    expect(shape).toEqual([2, 3]);
    expect(cutMatchesAlone).toBe(true);
    expect(uncutDiffers).toBe(true);
  });

  it('InfoNCE is near 0 for matching views, log(2B - 1) when every view is as similar as every other, and does not push apart views of one next item', { timeout: 60_000 }, async () => {
    const [matching, unrelated, sameItemApart, sameItemMasked] = (await pythonJson(`
import json, math, torch
from hunch_torch.contrastive import info_nce_sum
torch.manual_seed(0)
z = torch.randn(8, 16)
labels = torch.arange(8)
twin = z.clone(); twin[1] = twin[0]  # rows 0 and 1: one vector
views = lambda total: total / 16
print(json.dumps([
  views(info_nce_sum(z, z, labels, 14.0).item()),
  views(info_nce_sum(torch.randn(8, 16), torch.randn(8, 16), labels, 1e-3).item()) / math.log(15),
  views(info_nce_sum(twin, twin, labels, 14.0).item()),
  views(info_nce_sum(twin, twin, torch.tensor([0, 0, 1, 2, 3, 4, 5, 6]), 14.0).item()),
]))
`)) as number[];
    expect(matching).toBeLessThan(0.01);
    expect(unrelated).toBeGreaterThan(0.99);
    expect(unrelated).toBeLessThan(1.01);
    // Two identical sequences with different next items are hard negatives of each other (4 of the 16 views
    // then have 3 views of cosine 1: log 3 each); with the same next item they are not negatives at all.
    expect(sameItemApart).toBeCloseTo((4 * Math.log(3)) / 16, 2);
    expect(sameItemMasked).toBeLessThan(0.01);
  });
});

describe('train.py --contrastive', () => {
  it('trains other weights with the term, the same without it as with weight 0, and logs the next-item loss alone', { timeout: 300_000 }, async () => {
    const plain = summaryOf(await python([...TRAIN, '--shards', shards, '--out', join(work, 'plain')]));
    const zero = summaryOf(await python([...TRAIN, '--contrastive', '0', '--shards', shards, '--out', join(work, 'zero')]));
    const run = await python([...TRAIN, '--contrastive', '0.5', '--shards', shards, '--out', join(work, 'contrast')]);
    const contrast = summaryOf(run);
    expect(zero.final_loss).toBe(plain.final_loss);
    const [a, b, c] = await Promise.all(['plain', 'zero', 'contrast'].map((d) => weightsOf(join(work, d))));
    const wte = (t: TensorMap) => Array.from(t.get('transformer.wte.weight')!.data);
    expect(wte(b!)).toEqual(wte(a!));
    expect(wte(c!)).not.toEqual(wte(a!));
    // The first step's loss is the next-item loss of the same initial weights on the same batch: the term is not in it.
    const firstLoss = (stdout: string) => Number(/^step 1\/\d+\s+loss (\S+)/m.exec(stdout)![1]);
    const plainRun = await python([...TRAIN, '--shards', shards, '--out', join(work, 'plain2')]);
    expect(firstLoss(run.stdout)).toBe(firstLoss(plainRun.stdout));
    expect(contrast.final_loss).not.toBe(plain.final_loss);
  });
});
