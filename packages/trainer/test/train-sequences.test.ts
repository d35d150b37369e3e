import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import { trainSequences, type SequenceTrainOptions } from '../src/train-sequences.js';

beforeAll(() => useWasmBackend());

const ITEMS = 40; // token ids 3..42
const V = ITEMS + 3;

/** Sessions from a sparse Markov chain with repeats: learnable, far from uniform. */
function sessions(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const out: number[][] = [];
  for (let s = 0; s < n; s++) {
    const len = 3 + rng.int(8);
    let cur = rng.int(ITEMS);
    const seq = [1, cur + 3];
    for (let t = 1; t < len; t++) {
      const r = rng.next();
      if (r < 0.15 && seq.length > 2) cur = seq[1 + rng.int(seq.length - 1)]! - 3; // a repeat
      else if (r < 0.85) cur = (cur * 7 + 3) % ITEMS;
      else cur = rng.int(ITEMS);
      seq.push(cur + 3);
    }
    out.push(seq);
  }
  return out;
}

const base: SequenceTrainOptions = {
  layers: 1,
  embd: 16,
  heads: 2,
  context: 12,
  epochs: 4,
  batchTokens: 160,
  lr: 1e-2,
  weightDecay: 0.01,
  dropout: 0.1,
  negatives: 12,
  itemBias: true,
  repeat: true,
  seed: 4,
  workers: 1,
};

const temp = mkdtempSync(join(tmpdir(), 'hunch-train-seq-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('trainSequences', () => {
  const data = sessions(400, 1);
  const validation = sessions(60, 2);

  it('makes the sampled-softmax loss fall and ranks next items far better than chance', async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const result = await trainSequences(data, { vocabSize: V }, { ...base, epochs: 6, validation: { sequences: validation, every: 20 }, test: { sequences: validation, k: 5 }, log });
    // Progress: a bar, the loss, tokens/s and the time left, ending at 100%.
    const progress = lines.filter((line) => line.startsWith('['));
    expect(progress.length).toBeGreaterThan(5);
    expect(progress.at(-1)).toMatch(/^\[#{20}\] 100% step (\d+)\/\1 .*loss \d+\.\d{4} .* \d+ tok\/s .*ETA 0s/);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const start = mean(result.history.slice(0, 3).map((h) => h.loss));
    const end = mean(result.history.slice(-5).map((h) => h.loss));
    expect(end).toBeLessThan(start * 0.6);
    const scorer = new NextItemScorer(result.config, result.weights, result.isItem);
    const { hit, mrr } = scorer.evaluate(validation, { k: 5 });
    scorer.dispose();
    expect(result.test!.hit).toBeCloseTo(hit, 6);
    expect(hit).toBeGreaterThan(0.5); // chance: 5/40
    expect(mrr).toBeGreaterThan(0.3);
    expect(result.bestValMrr).toBeGreaterThan(0.3);
  });

  it('resumes after an interruption to exactly the weights of an uninterrupted run', async () => {
    const options = { ...base, epochs: 2, validation: { sequences: validation, every: 4, patience: 100 } };
    const straight = await trainSequences(data, { vocabSize: V }, options);
    const dir = join(temp, 'resume');
    const state = { dir, every: 3 };
    const killed = await trainSequences(data, { vocabSize: V }, { ...options, state, stopAfter: 7 });
    expect(killed.steps).toBe(7);
    // The state is one numbers file plus state.json naming it (the last save, at step 6).
    expect(readdirSync(dir).sort()).toEqual(['state.json', 'tensors-6.bin']);
    // A kill in the middle of the next save leaves a partial numbers file: ignored.
    writeFileSync(join(dir, 'tensors-9.bin'), new Uint8Array(100));
    const resumed = await trainSequences(data, { vocabSize: V }, { ...options, state });
    expect(resumed.steps).toBe(straight.steps);
    for (const [name, t] of straight.weights) expect(resumed.weights.get(name)!.data, name).toEqual(t.data);
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    expect(resumed.bestStep).toBe(straight.bestStep);
  });

  it('two worker_threads give the single-thread result up to float summation order', async () => {
    const script = fileURLToPath(new URL('../../../node_modules/.cache/hunch-test/train-worker.mjs', import.meta.url));
    buildSync({
      entryPoints: [fileURLToPath(new URL('../src/train-worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['@tensorflow/*'],
      outfile: script,
      logLevel: 'error',
    });
    const options = { ...base, epochs: 1, validation: { sequences: validation, every: 5 } };
    const one = await trainSequences(data, { vocabSize: V }, options);
    const two = await trainSequences(data, { vocabSize: V }, { ...options, workers: 2, workerScript: script });
    expect(two.steps).toBe(one.steps);
    let maxDiff = 0;
    for (const [name, t] of one.weights) {
      const other = two.weights.get(name)!.data;
      for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(t.data[i]! - other[i]!));
    }
    // Same batches, negatives and dropout masks; only the gradient sum order differs.
    expect(maxDiff).toBeLessThan(1e-3);
    one.history.forEach((h, i) => {
      expect(Math.abs(h.loss - two.history[i]!.loss)).toBeLessThan(1e-3);
      // Validation is split over the two workers too.
      if (h.valMrr !== undefined) expect(Math.abs(h.valMrr - two.history[i]!.valMrr!)).toBeLessThan(0.02);
    });
  });
});
