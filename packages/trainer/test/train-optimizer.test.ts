/**
 * FlatAdamW's lazy row tables against its dense update: rows a step touches get exactly the
 * dense arithmetic, untouched rows keep their moments and get only their weight decay.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/lib/prng.js';
import { touchedRows, type ShardOutput } from '../src/next-item/loss.js';
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
const lazySegments: Segment[] = dense.map((s, i) => (i === 2 ? { ...s, rowSize: D } : i === 3 ? { ...s, rowSize: 1 } : s));
const SIZE = 11 + R * D + R;
const options: AdamWOptions = { beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.1, clip: 1 };
const LR = [0.05, 0.04, 0.03, 0.02, 0.01];

/** Indices of table row `row` in both tables. */
const rowIndices = (row: number) => [...Array.from({ length: D }, (_, d) => 11 + row * D + d), 11 + R * D + row];

/** Gradients of one step: random on the dense segments and on `rows`, zero elsewhere (what a step's shards give). */
function gradients(rng: Rng, rows: number[]): Float32Array {
  const g = new Float32Array(SIZE);
  for (let i = 0; i < 11; i++) g[i] = rng.next() - 0.5;
  for (const row of rows) for (const i of rowIndices(row)) g[i] = rng.next() - 0.5;
  return g;
}

function start(): Float32Array {
  const rng = new Rng(7);
  return Float32Array.from({ length: SIZE }, () => rng.next() - 0.5);
}

describe('FlatAdamW with lazy row tables', () => {
  it('gives exactly the dense update when every row is touched, and the same gradient norm', () => {
    const a = start();
    const b = start();
    const denseAdam = new FlatAdamW(SIZE, dense, options);
    const lazyAdam = new FlatAdamW(SIZE, lazySegments, options);
    const rng = new Rng(1);
    const all = Array.from({ length: R }, (_, r) => r);
    for (const lr of LR) {
      const g = gradients(rng, all);
      expect(lazyAdam.step(b, g, lr, Int32Array.from(all))).toBe(denseAdam.step(a, g, lr));
    }
    expect(b).toEqual(a);
    expect(lazyAdam.m).toEqual(denseAdam.m);
    expect(lazyAdam.v).toEqual(denseAdam.v);
  });

  it('updates rows touched every step as dense AdamW does; untouched rows keep their moments and only decay; their gradient is never read', () => {
    // Rows 0, 2, 5 every step; row 1 never; row 3 at steps 0 and 3; row 4 at step 2.
    const touchedAt = (step: number) => [0, 2, 5, ...(step === 0 || step === 3 ? [3] : []), ...(step === 2 ? [4] : [])].sort((x, y) => x - y);
    const a = start();
    const b = start();
    const denseAdam = new FlatAdamW(SIZE, dense, options);
    const lazyAdam = new FlatAdamW(SIZE, lazySegments, options);
    const rng = new Rng(2);
    const grads: Float32Array[] = [];
    LR.forEach((lr, step) => {
      const rows = touchedAt(step);
      const g = gradients(rng, rows);
      grads.push(g);
      // The lazy step must not read the rows it was not told about: poison them.
      const poisoned = Float32Array.from(g);
      for (let row = 0; row < R; row++) if (!rows.includes(row)) for (const i of rowIndices(row)) poisoned[i] = NaN;
      expect(lazyAdam.step(b, poisoned, lr, Int32Array.from(rows))).toBe(denseAdam.step(a, g, lr));
    });
    const same = [...Array.from({ length: 11 }, (_, i) => i), ...[0, 2, 5].flatMap(rowIndices)];
    for (const i of same) {
      expect(b[i], `element ${i}`).toBe(a[i]);
      expect(lazyAdam.m[i]).toBe(denseAdam.m[i]);
      expect(lazyAdam.v[i]).toBe(denseAdam.v[i]);
    }
    // Row 1, never touched: no moments, and the item-table part decayed every step (biases do not decay).
    const p0 = start();
    for (const i of rowIndices(1)) {
      expect(lazyAdam.m[i]).toBe(0);
      expect(lazyAdam.v[i]).toBe(0);
      const decays = i < 11 + R * D;
      expect(b[i]).toBe(LR.reduce((p, lr) => Math.fround(p * (decays ? 1 - lr * options.weightDecay : 1)), p0[i]!));
    }
    // Rows 3 and 4 against the stated semantics, element by element: Adam (bias correction by the global step) where touched, decay elsewhere.
    for (const row of [3, 4]) {
      for (const i of rowIndices(row)) {
        const decays = i < 11 + R * D;
        let p = p0[i]!;
        let m = 0;
        let v = 0;
        LR.forEach((lr, step) => {
          const keep = decays ? 1 - lr * options.weightDecay : 1;
          if (!touchedAt(step).includes(row)) {
            p = Math.fround(p * keep);
            return;
          }
          // Recompute the step's clip scale as the optimiser does.
          let sq = 0;
          for (const x of grads[step]!) sq += x * x;
          const norm = Math.sqrt(sq);
          const scale = norm > options.clip ? options.clip / (norm + 1e-6) : 1;
          const g = grads[step]![i]! * scale;
          m = Math.fround(0.9 * m + 0.1 * g);
          v = Math.fround(0.98 * v + (1 - 0.98) * g * g);
          const t = step + 1;
          p = Math.fround(p * keep - (lr * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.98 ** t)) + 1e-8));
        });
        expect(b[i], `row ${row} element ${i}`).toBeCloseTo(p, 6);
        expect(lazyAdam.m[i]).toBeCloseTo(m, 7);
      }
      // Dense Adam moved the row at the steps it was not touched: the semantics differ there.
      expect(rowIndices(row).some((i) => b[i] !== a[i])).toBe(true);
    }
  });
});

describe('touchedRows', () => {
  it('is the ascending union of the rows every shard used', () => {
    const out = (rows: number[]) => ({ rows: Int32Array.from(rows) }) as ShardOutput;
    expect([...touchedRows([out([9, 3, 4]), out([4, 0, 9, 7])], 12)]).toEqual([0, 3, 4, 7, 9]);
    expect([...touchedRows([out([])], 5)]).toEqual([]);
  });
});
