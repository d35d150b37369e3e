/**
 * The PyTorch trainer's validation, early stopping and time budget: `hunch shards` records how
 * its validation split is scored; train.py scores it as the Node scorer does (the Node scorer
 * re-scores the written checkpoint), keeps and writes the best weights, stops after `patience`
 * validations without a better MRR@20, and a run the time budget limits ends at the learning
 * rate's floor.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isItemToken } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { readCheckpoint, type TrainingMetadata } from '../src/checkpoint.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import { readShards } from '../src/shards.js';
import { buildCli, writeSequencesDataset, writeSessionsDataset, type Cli } from './cli-helpers.js';
import { python, summaryOf } from './torch-helpers.js';

const TINY = ['train.py', '--layers', '1', '--embd', '16', '--heads', '2', '--context', '16', '--batch-tokens', '64', '--negatives', '0', '--seed', '3'];
// A high learning rate held constant (floor = peak), no dropout, many epochs on 300 sessions: validation rises, then swings below its best.
const OVERFIT = [...TINY, '--lr', '0.05', '--min-lr-ratio', '1', '--dropout', '0', '--weight-decay', '0', '--epochs', '60', '--validate-every', '20'];

let work: string;
let cli: Cli;
let sessions: string;
let sequences: string;
beforeAll(async () => {
  await useWasmBackend();
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-valid-'));
  cli = await buildCli('torch-valid');
  const data = await writeSessionsDataset(join(work, 'sessions'), 11);
  sessions = join(work, 'sessions-shards');
  const made = await cli.run(['shards', '--format', 'sessions', '--train', data.train, '--test', data.test, '--out', sessions]);
  expect(made.code, made.stderr).toBe(0);
  sequences = join(work, 'sequences-shards');
  const seq = await cli.run(['shards', '--format', 'sequences', '--data', await writeSequencesDataset(join(work, 'sequences'), 12), '--out', sequences]);
  expect(seq.code, seq.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

type Validation = NonNullable<TrainingMetadata['validation']> & { history: Array<{ step: number; mrr20: number; hr20: number; lr: number }> };

/** The checkpoint's validation record, and its weights' MRR@20 / HR@20 on the shards' validation split by the Node scorer. */
async function rescored(checkpoint: string, shards: string): Promise<{ training: TrainingMetadata; validation: Validation; node: { mrr: number; hit: number } }> {
  const { config, weights, metadata } = await readCheckpoint(checkpoint);
  const { manifest, validation } = await readShards(shards);
  const isItem = Uint8Array.from(metadata.vocabulary, (token) => (isItemToken(token) ? 1 : 0));
  const scorer = new NextItemScorer(config, weights, isItem);
  try {
    const m = scorer.evaluate(validation, { ...manifest.validationScoring!, k: 20 });
    return { training: metadata.training, validation: metadata.training.validation as Validation, node: { mrr: m.mrr, hit: m.hit } };
  } finally {
    scorer.dispose();
  }
}

describe('hunch shards', () => {
  it('records how the validation split is scored: every target of the latest sessions, or each user\'s last item with the history masked', async () => {
    expect((await readShards(sessions)).manifest.validationScoring).toEqual({ minPosition: 1, lastOnly: false, excludeSeen: false });
    expect((await readShards(sequences)).manifest.validationScoring).toEqual({ minPosition: 1, lastOnly: true, excludeSeen: true });
  });
});

describe('train.py validation', () => {
  it('keeps and writes the weights of the best validation, not the last, scored as the Node scorer scores them', { timeout: 300_000 }, async () => {
    const out = join(work, 'overfit');
    const run = summaryOf(await python([...OVERFIT, '--patience', '1000', '--shards', sessions, '--out', out]));
    const { training, validation, node } = await rescored(out, sessions);
    const mrrs = validation.history.map((h) => h.mrr20);
    const best = Math.max(...mrrs);
    const bestStep = validation.history[mrrs.indexOf(best)]!.step;
    // The construction: the run went on past its best validation and ended worse, by more than the tolerance below.
    expect(validation.history.length).toBeGreaterThan(3);
    expect(bestStep).toBeLessThan(run.steps as number);
    expect(mrrs.at(-1)!).toBeLessThan(best - 2e-4);
    expect([training.keptStep, validation.mrr20, validation.stoppedEarly]).toEqual([bestStep, best, false]);
    // The written weights are the best step's: the Node scorer gets that validation's figures, not the last one's.
    expect(Math.abs(node.mrr - best)).toBeLessThan(1e-4);
    expect(Math.abs(node.hit - validation.history[mrrs.indexOf(best)]!.hr20)).toBeLessThan(1e-4);
  });

  it('scores the leave-one-out split (last item only, history masked) as the Node scorer does', { timeout: 300_000 }, async () => {
    const out = join(work, 'loo');
    summaryOf(await python([...TINY, '--epochs', '3', '--validate-every', '1000', '--shards', sequences, '--out', out]));
    const { validation, node } = await rescored(out, sequences);
    expect(validation.history).toHaveLength(1); // the final validation only
    expect(Math.abs(node.mrr - validation.mrr20)).toBeLessThan(1e-4);
    expect(Math.abs(node.hit - validation.hr20!)).toBeLessThan(1e-4);
    expect(validation.sequences).toBe((await readShards(sequences)).validation.length);
  });

  it('stops early after `patience` validations without a better MRR@20', { timeout: 300_000 }, async () => {
    const out = join(work, 'early');
    const run = await python([...OVERFIT, '--patience', '2', '--shards', sessions, '--out', out]);
    const summary = summaryOf(run);
    const planned = Number(/, (\d+) steps \(60 epochs\)/.exec(run.stdout)![1]);
    const { validation } = await rescored(out, sessions);
    const mrrs = validation.history.map((h) => h.mrr20);
    const bestAt = mrrs.indexOf(Math.max(...mrrs));
    expect(summary.stopped_early).toBe(true);
    expect(validation.stoppedEarly).toBe(true);
    // Exactly 2 validations after the best, none better, and the run ended at the second.
    expect(mrrs.length - 1 - bestAt).toBe(2);
    expect(summary.steps).toBe(validation.history.at(-1)!.step);
    expect(summary.steps as number).toBeLessThan(planned);
    expect(run.stdout).toMatch(/stopping early at step \d+: no better validation MRR@20 for 2 evaluations/);
  });
});

describe('train.py time budget', () => {
  it('ends a run the budget limits at the learning rate\'s floor, validations included in the time', { timeout: 300_000 }, async () => {
    const out = join(work, 'budget');
    // 2,000 epochs cannot fit in 6 seconds: the time sets the steps.
    const run = await python([...TINY, '--lr', '0.004', '--min-lr-ratio', '0.1', '--epochs', '2000', '--validate-every', '40', '--patience', '1000', '--time-budget', '0.1', '--shards', sessions, '--out', out]);
    const summary = summaryOf(run);
    const planned = Number(/, (\d+) steps \(2000 epochs\)/.exec(run.stdout)![1]);
    expect(run.stdout).toMatch(/time budget 0\.1 min: \d+ ms a step, [\d.]+ s a validation/);
    expect(summary.steps as number).toBeLessThan(planned);
    expect([summary.time_limited, summary.ran_out, summary.stopped_early]).toEqual([true, false, false]);
    expect(Math.abs((summary.last_lr as number) - 0.0004)).toBeLessThan(1e-12);
    const { validation } = await rescored(out, sessions);
    expect(validation.history.at(-1)!.step).toBe(summary.steps); // the last weights were validated too
    expect(validation.history.at(-1)!.lr).toBeCloseTo(0.0004, 12);
  });

  it('ends at the floor when the machine slows down after the steps were planned, instead of running out part-way down the decay', { timeout: 300_000 }, async () => {
    // From step 30 every step sleeps 50 ms more: the steps planned from the first ones' speed no longer fit.
    const run = await python([...TINY, '--lr', '0.004', '--min-lr-ratio', '0.1', '--epochs', '2000', '--validate-every', '40', '--patience', '1000', '--time-budget', '0.1', '--slow-down', '30:0.05', '--shards', sessions, '--out', join(work, 'slowed')]);
    const summary = summaryOf(run);
    const planned = Number(/time budget 0\.1 min: \d+ ms a step, [\d.]+ s a validation \(timed on a sample\) -> (\d+) steps/.exec(run.stdout)![1]);
    expect(summary.steps as number).toBeLessThan(planned);
    expect([summary.time_limited, summary.ran_out, summary.stopped_early]).toEqual([true, false, false]);
    expect(Math.abs((summary.last_lr as number) - 0.0004)).toBeLessThan(1e-12);
  });
});
