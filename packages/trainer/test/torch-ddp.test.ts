/**
 * The PyTorch trainer end to end on shop events: `hunch shards` writes the tokens, train.py
 * trains on them with one process and with two under torch.distributed (gloo on CPU), the same
 * global batches giving the same weights; its checkpoint exports with `hunch export`, and a
 * checkpoint that breaks the exporter's contract is refused naming the tensor.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ITEM_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, type TensorMap } from '../src/safetensors.js';
import { readShards } from '../src/shards.js';
import { buildCli, type Cli } from './cli-helpers.js';
import { catalogPath } from './helpers.js';
import { python, simulatedShards, summaryOf, torchrunOnOneMachine, weightsOf } from './torch-helpers.js';

// Tiny, and no dropout: each process draws its own dropout masks, so only without dropout do the runs compute the same thing.
const TRAIN = ['train.py', '--layers', '2', '--embd', '16', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--negatives', '32', '--dropout', '0', '--lr', '3e-3', '--max-steps', '4', '--seed', '5'];

let work: string;
let cli: Cli;
let shards: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-ddp-'));
  cli = await buildCli('torch');
  const made = await simulatedShards(cli, work, 300, 4);
  shards = made.shards;
  expect(made.stderr).toMatch(/^shards -> .*training sequences/m);
});
afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('hunch shards', () => {
  it('writes the sequences and vocabulary the Node trainer reads from the same events', async () => {
    const { manifest, train, validation } = await readShards(shards);
    expect(manifest.vocabulary.slice(0, 3)).toEqual(['[PAD]', '[BOS]', '[UNK]']);
    expect(train.length).toBe(manifest.sequences);
    expect(validation.length).toBeGreaterThan(0);
    expect(train.every((s) => s[0] === manifest.bos && s.length <= 17 && s.every((id) => id < manifest.vocabulary.length))).toBe(true);
    expect(Object.keys(manifest.itemCounts).length).toBeGreaterThan(10);
  });
});

describe('train.py', () => {
  let single: string;
  it('on 2 processes (DDP, gloo) reaches the weights of 1 process with the same global batches', { timeout: 300_000 }, async () => {
    single = join(work, 'single');
    const double = join(work, 'double');
    const one = summaryOf(await python([...TRAIN, '--shards', shards, '--out', single]));
    const twoRun = await python([...(await torchrunOnOneMachine(2)), ...TRAIN, '--shards', shards, '--out', double]);
    const two = summaryOf(twoRun);
    expect(twoRun.stdout).toMatch(/2 processes on cpu \(gloo\)/);
    expect([one.processes, two.processes, one.steps, two.steps]).toEqual([1, 2, 4, 4]);
    // The loss and the gradient norm of the last step (before clipping): the same batch, the same scale.
    expect(Math.abs((one.final_loss as number) - (two.final_loss as number))).toBeLessThanOrEqual(1e-5);
    expect(Math.abs((one.last_grad_norm as number) - (two.last_grad_norm as number))).toBeLessThanOrEqual(1e-5 * (one.last_grad_norm as number));
    const a = await weightsOf(single);
    const b = await weightsOf(double);
    const init = await weightsOf(await initialWeights());
    expect([...b.keys()]).toEqual([...a.keys()]);
    let worst = 0;
    let moved = 0;
    for (const [name, t] of a) {
      const u = b.get(name)!.data;
      t.data.forEach((x, i) => {
        worst = Math.max(worst, Math.abs(x - u[i]!));
        moved = Math.max(moved, Math.abs(x - init.get(name)!.data[i]!));
      });
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(moved).toBeGreaterThan(1e-3); // the steps changed the weights: the equality is not of untouched ones
  });

  /** The same run's weights after 0 steps' worth of change: a 1-step run at learning rate ~0. */
  async function initialWeights(): Promise<string> {
    const dir = join(work, 'init');
    summaryOf(await python([...TRAIN, '--shards', shards, '--out', dir, '--lr', '1e-30']));
    return dir;
  }

  it('writes a checkpoint hunch export turns into a model; a broken one is refused naming the tensor', { timeout: 300_000 }, async () => {
    const exported = await cli.run(['export', '--model', single, '--catalog', catalogPath, '--out', join(work, 'model'), '--quant', 'int8']);
    expect(exported.stderr).toMatch(/^exported model /m);
    expect(exported.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(work, 'model', 'hunch.json'), 'utf8')) as { onnx: { itemBias: boolean; cosineScale: number; repeat: unknown } };
    expect(manifest.onnx).toMatchObject({ itemBias: true, cosineScale: 12, repeat: { output: 'hunch_repeat' } });

    const broken: Array<[string, (w: TensorMap) => void, RegExp]> = [
      ['renamed', (w) => rename(w, 'transformer.h.1.mlp.c_fc.weight', 'transformer.h.1.mlp.fc.weight'), /missing tensor transformer\.h\.1\.mlp\.c_fc\.weight/],
      ['missing', (w) => w.delete(REPEAT_WEIGHT), /hunch\.repeat\.weight/],
      ['mis-shaped', (w) => w.set(ITEM_BIAS, { shape: [3], data: new Float32Array(3) }), /tensor lm_head\.bias has shape \[3\], expected \[\d+\]/],
      ['extra', (w) => w.set('hunch.extra.weight', { shape: [2], data: new Float32Array(2) }), /cannot compute hunch\.extra\.weight/],
    ];
    for (const [what, breakIt, error] of broken) {
      const dir = join(work, `broken-${what}`);
      await cp(single, dir, { recursive: true });
      const weights = await weightsOf(dir);
      breakIt(weights);
      await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(weights));
      const refused = await cli.run(['export', '--model', dir, '--catalog', catalogPath, '--out', join(work, `model-${what}`)]);
      expect(refused.code, what).toBe(1);
      const lines = refused.stderr.trim().split('\n');
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(error);
    }
  });
});

function rename(weights: TensorMap, from: string, to: string): void {
  weights.set(to, weights.get(from)!);
  weights.delete(from);
}
