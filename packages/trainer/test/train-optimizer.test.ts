/**
 * FlatAdamW in two parts (the row-table rows a step does not touch first, while the gradient
 * is computed; then the rest) against its one-part dense update: exactly equal.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { initNextItem, nextItemShapes } from '../src/next-item/heads.js';
import { batchRows, rowSeed, shardGradients } from '../src/next-item/loss.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { FlatAdamW, type AdamWOptions, type Segment } from '../src/train/optimizer.js';

const R = 6; // table rows
const D = 4; // row width
// A dense vector (no decay), a dense matrix (decay), the item table [R, D] (decay) and the item biases [R] (no decay).
const dense: Segment[] = [
  { offset: 0, size: 3, decay: false },
  { offset: 3, size: 8, decay: true },
  { offset: 11, size: R * D, decay: true },
  { offset: 11 + R * D, size: R, decay: false },
];
const withRows: Segment[] = dense.map((s, i) => (i === 2 ? { ...s, rowSize: D } : i === 3 ? { ...s, rowSize: 1 } : s));
const SIZE = 11 + R * D + R;
const options: AdamWOptions = { beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.1, clip: 1 };
const LR = [0.05, 0.04, 0.03, 0.02, 0.01, 0.01];

/** Indices of table row `row` in both tables. */
const rowIndices = (row: number) => [...Array.from({ length: D }, (_, d) => 11 + row * D + d), 11 + R * D + row];

describe('FlatAdamW.stepUntouched + step', () => {
  it('is exactly the dense update, moments and gradient norm included, and never reads an untouched row’s gradient', () => {
    // Rows 0, 2, 5 every step; row 1 never; row 3 at steps 0 and 3; row 4 at step 2; all at step 5.
    const touchedAt = (step: number) => (step === 5 ? [0, 1, 2, 3, 4, 5] : [0, 2, 5, ...(step === 0 || step === 3 ? [3] : []), ...(step === 2 ? [4] : [])].sort((x, y) => x - y));
    const init = new Rng(7);
    const a = Float32Array.from({ length: SIZE }, () => init.next() - 0.5);
    const b = Float32Array.from(a);
    const one = new FlatAdamW(SIZE, dense, options);
    const two = new FlatAdamW(SIZE, withRows, options);
    const rng = new Rng(2);
    LR.forEach((lr, step) => {
      const rows = touchedAt(step);
      const g = new Float32Array(SIZE);
      for (let i = 0; i < 11; i++) g[i] = rng.next() - 0.5;
      for (const row of rows) for (const i of rowIndices(row)) g[i] = rng.next() - 0.5;
      // The two-part update must not read the rows it was not told about: poison them.
      const poisoned = Float32Array.from(g);
      for (let row = 0; row < R; row++) if (!rows.includes(row)) for (const i of rowIndices(row)) poisoned[i] = NaN;
      const touched = Int32Array.from(rows);
      two.stepUntouched(b, lr, touched);
      expect(two.step(b, poisoned, lr, touched)).toBe(one.step(a, g, lr));
    });
    expect(b).toEqual(a);
    expect(two.m).toEqual(one.m);
    expect(two.v).toEqual(one.v);
    expect(two.t).toBe(LR.length);
  });

  it('refuses a step whose touched rows are not those its first part was given', () => {
    const opt = new FlatAdamW(SIZE, withRows, options);
    const params = new Float32Array(SIZE);
    opt.stepUntouched(params, 0.01, Int32Array.from([1, 2]));
    expect(() => opt.step(params, new Float32Array(SIZE), 0.01, Int32Array.from([1, 2]))).toThrow('FlatAdamW.step: the touched rows differ from those stepUntouched() was given');
  });
});

describe('batchRows', () => {
  beforeAll(() => useWasmBackend());

  it('is the ascending union of the rows the shards of a step compute a gradient for', () => {
    const config: GPT2Config = { vocabSize: 30, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
    const heads = { itemBias: true, repeat: true };
    const layout = new ParamLayout(nextItemShapes(config, heads));
    const params = new Float32Array(layout.size);
    initNextItem(config, heads, 1, params, layout);
    const isItem = Uint8Array.from({ length: 30 }, (_, i) => (i >= 3 ? 1 : 0));
    const batch = [Int32Array.from([1, 5, 9, 5, 12]), Int32Array.from([1, 20, 7]), Int32Array.from([1, 29, 3, 4])];
    const negatives = Int32Array.from([6, 9, 17, 6]);
    const shard = (rows: Int32Array[]) =>
      shardGradients(config, layout, params, isItem, { rows, rowSeeds: rows.map((_, i) => rowSeed(1, 0, i)), negatives, negativeLogKQ: new Float32Array(4), normalizer: 10, dropout: 0 });
    const used = new Set([...shard([batch[0]!, batch[2]!]).rows, ...shard([batch[1]!]).rows]);
    expect([...batchRows(batch, negatives, 30)]).toEqual([...used].sort((x, y) => x - y));
    expect([...batchRows(batch, negatives, 30)]).toEqual([1, 3, 4, 5, 6, 7, 9, 12, 17, 20, 29]);
  });
});
