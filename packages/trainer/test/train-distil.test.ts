/**
 * Distillation inside training (train-sequences.ts `distil`): each batch row is cut from the
 * soft-target table at its own sequence's positions, in this thread and in the workers (the
 * table shared with them); and the teacher's pass (distillation.ts) with its default rule.
 */
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { distilTargets, DISTIL_BUDGET_SHARE } from '../src/distillation.js';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { SoftTargetTable } from '../src/next-item/soft-target-block.js';
import { trainSequences, type SequenceTrainOptions } from '../src/train-sequences.js';

beforeAll(() => useWasmBackend());

const ITEMS = 30;
const V = ITEMS + 3;

/** Sessions of 1 to 14 items ([BOS] first): some longer than the context, one with nothing to learn. */
function sessions(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, s) => {
    const len = s === 3 ? 1 : 1 + rng.int(14);
    let cur = rng.int(ITEMS);
    const seq = [1];
    for (let t = 0; t < len; t++) {
      seq.push(cur + 3);
      cur = rng.next() < 0.8 ? (cur * 7 + 3) % ITEMS : rng.int(ITEMS);
    }
    return seq;
  });
}

const options: SequenceTrainOptions = {
  layers: 1,
  embd: 16,
  heads: 2,
  context: 8,
  epochs: 1,
  batchTokens: 96,
  lr: 1e-2,
  weightDecay: 0.01,
  dropout: 0,
  negatives: 10,
  itemBias: true,
  repeat: true,
  seed: 2,
  workers: 1,
};

/** A "teacher" that knows the answer: every position's soft target is its own next item, weight 1. */
function oneHotNextItems(data: number[][], k: number): SoftTargetTable {
  const positions = data.reduce((n, s) => n + Math.max(0, s.length - 1), 0);
  const ids = new Int32Array(positions * k);
  const weights = new Float32Array(positions * k);
  let row = 0;
  for (const s of data) {
    for (let t = 0; t + 1 < s.length; t++, row++) {
      ids[row * k] = s[t + 1]!;
      weights[row * k] = 1;
    }
  }
  return { k, ids, weights };
}

describe('distillation in training', () => {
  const data = sessions(120, 1);

  it.each([1, 2])('cuts each row its own positions from the table (%i worker(s)): targets equal to the next items double the loss', async (workers) => {
    const script = fileURLToPath(new URL('../../../node_modules/.cache/hunch-test/train-worker-distil.mjs', import.meta.url));
    if (workers > 1) {
      buildSync({ entryPoints: [fileURLToPath(new URL('../src/train-worker.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', external: ['@tensorflow/*'], outfile: script, logLevel: 'error' });
    }
    const run = (distil?: SequenceTrainOptions['distil']) =>
      trainSequences(data, { vocabSize: V }, { ...options, workers, ...(workers > 1 ? { workerScript: script } : {}), stopAfter: 1, ...(distil ? { distil } : {}) });
    const plain = await run();
    // α (log Z - s(y)) at every position is α times the next-item loss: the first step's loss is (1 + α) times.
    const doubled = await run({ weight: 1, targets: oneHotNextItems(data, 3) });
    expect(doubled.history[0]!.loss).toBeCloseTo(2 * plain.history[0]!.loss, 4);
    // Each row's targets shifted by one position: no longer the row's own answers.
    const table = oneHotNextItems(data, 3);
    const shifted = { k: 3, ids: new Int32Array(table.ids.length), weights: table.weights };
    shifted.ids.set(table.ids.subarray(3), 0);
    const misaligned = await run({ weight: 1, targets: shifted });
    expect(Math.abs(misaligned.history[0]!.loss - 2 * plain.history[0]!.loss)).toBeGreaterThan(0.01);
  });

  it('refuses a table made for other sequences, with one line', async () => {
    const table = oneHotNextItems(data.slice(1), 2);
    await expect(trainSequences(data, { vocabSize: V }, { ...options, distil: { weight: 0.5, targets: table } })).rejects.toThrow(/^soft targets: \d+ positions, the training sequences have \d+$/);
  });

  it("computes STAN's targets for every position in shared memory, and by default only when the pass fits its share of the budget", () => {
    const isItem = Uint8Array.from({ length: V }, (_, i) => (i >= 3 ? 1 : 0));
    const lines: string[] = [];
    const on = distilTargets(data, isItem, {}, { budgetSeconds: 3600 }, (line) => lines.push(line));
    expect(on).toBeDefined();
    const positions = data.reduce((n, s) => n + Math.max(0, s.length - 1), 0);
    expect(on!.report).toMatchObject({ weight: 0.5, k: 50, positions });
    expect(on!.report.covered).toBeGreaterThan(positions / 2);
    expect(on!.distil.targets.ids.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(on!.distil.targets.weights.buffer).toBeInstanceOf(SharedArrayBuffer);
    // A budget too small for the pass: off by default, on when asked for.
    expect(distilTargets(data, isItem, {}, { budgetSeconds: 1e-6 / DISTIL_BUDGET_SHARE }, (line) => lines.push(line))).toBeUndefined();
    expect(lines.at(-1)).toMatch(/^distillation off: STAN's soft targets were predicted to take over 0 s/);
    expect(distilTargets(data, isItem, { weight: 0.5, k: 5 }, { budgetSeconds: 1e-6 }, () => {})!.report).toMatchObject({ weight: 0.5, k: 5 });
    expect(distilTargets(data, isItem, { weight: 0 }, { budgetSeconds: 3600 }, () => {})).toBeUndefined();
    // Items composed with their attributes: off by default whatever the budget (the teacher knows only trained items), on when asked for.
    expect(distilTargets(data, isItem, {}, { budgetSeconds: 3600, itemAttributes: true }, (line) => lines.push(line))).toBeUndefined();
    expect(lines.at(-1)).toMatch(/^distillation off: items are composed with their attributes/);
    expect(distilTargets(data, isItem, { weight: 0.5 }, { budgetSeconds: 3600, itemAttributes: true }, () => {})!.report).toMatchObject({ weight: 0.5, k: 50 });
  });
});
