/**
 * train.py's model levers measured in BENCHMARKS.md ("the Diginetica recipe's hyperparameters
 * under distillation, two model levers, ..."): `--attn-dropout` (dropout on the attention weights, training only)
 * and `--no-positions` (position embeddings held at zero). Off, each is the run without the
 * flag bit for bit; on, it trains other weights.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorMap } from '../src/safetensors.js';
import { buildCli, type Cli } from './cli-helpers.js';
import { python, simulatedShards, summaryOf, weightsOf } from './torch-helpers.js';

// No other dropout: a change in the weights is then the flag's alone.
const TRAIN = ['train.py', '--layers', '1', '--embd', '16', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--negatives', '32', '--dropout', '0', '--max-steps', '3', '--validate-every', '0', '--seed', '5'];

let work: string;
let cli: Cli;
let shards: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-flags-'));
  cli = await buildCli('torch-flags');
  shards = (await simulatedShards(cli, work, 200, 11)).shards;
}, 120_000);
afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

const values = (t: TensorMap, name: string) => Array.from(t.get(name)!.data);

type Run = { loss: number | string; weights: TensorMap };

async function train(name: string, flags: string[]): Promise<Run> {
  const summary = summaryOf(await python([...TRAIN, ...flags, '--shards', shards, '--out', join(work, name)]));
  return { loss: summary.final_loss!, weights: await weightsOf(join(work, name)) };
}

/** The run without either flag, trained once for both tests. */
let plainRun: Promise<Run> | undefined;
const plain = () => (plainRun ??= train('plain', []));

describe('train.py model flags', () => {
  it('--attn-dropout 0 is the plain run bit for bit; 0.5 trains other weights', { timeout: 300_000 }, async () => {
    const base = await plain();
    const zero = await train('attn0', ['--attn-dropout', '0']);
    const half = await train('attn5', ['--attn-dropout', '0.5']);
    expect(zero.loss).toBe(base.loss);
    expect(values(zero.weights, 'transformer.wte.weight')).toEqual(values(base.weights, 'transformer.wte.weight'));
    expect(half.loss).not.toBe(base.loss);
    expect(values(half.weights, 'transformer.h.0.attn.c_attn.weight')).not.toEqual(values(base.weights, 'transformer.h.0.attn.c_attn.weight'));
  });

  it('--no-positions writes position embeddings of zeros and still trains the rest', { timeout: 300_000 }, async () => {
    const base = await plain();
    const none = await train('nopos', ['--no-positions']);
    const wpe = values(none.weights, 'transformer.wpe.weight');
    expect(wpe.length).toBe(16 * 16);
    expect(wpe.every((v) => v === 0)).toBe(true);
    expect(values(base.weights, 'transformer.wpe.weight').some((v) => v !== 0)).toBe(true);
    expect(values(none.weights, 'transformer.h.0.mlp.c_fc.weight')).not.toEqual(values(base.weights, 'transformer.h.0.mlp.c_fc.weight'));
  });
});
