/**
 * The product quantizer (onnx/pq.ts): OPQ's learned rotation is orthogonal, lowers the
 * reconstruction error of plain PQ on a table whose variance does not line up with the
 * sub-spaces, and the whole quantization is a function of its seed.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/lib/prng.js';
import { dequantizePq, pqSubspaces, quantizePq, type PqOptions } from '../src/onnx/pq.js';

const ROWS = 1500;
const WIDTH = 16;
const SUBSPACES = 4;

/**
 * Rows from 4 latent factors spread over every column (plus a little noise): each 4-column
 * sub-space sees all four factors, so plain PQ spends its centroids on the same variance four
 * times, while a rotation can give each sub-space its own factor.
 */
function structuredTable(seed: number): Float32Array {
  const rng = new Rng(seed);
  const mixing = Array.from({ length: 4 * WIDTH }, () => rng.normal());
  const table = new Float32Array(ROWS * WIDTH);
  for (let r = 0; r < ROWS; r++) {
    const factors = [3, 2, 1.5, 1].map((scale) => scale * rng.normal());
    for (let d = 0; d < WIDTH; d++) {
      let x = 0.05 * rng.normal();
      for (let f = 0; f < 4; f++) x += factors[f]! * mixing[f * WIDTH + d]!;
      table[r * WIDTH + d] = x;
    }
  }
  return table;
}

/** ‖table − reconstruction‖² / ‖table‖². */
function relativeError(table: Float32Array, options: PqOptions): number {
  const reconstruction = dequantizePq(quantizePq(table, ROWS, WIDTH, { subspaces: SUBSPACES, ...options }));
  let error = 0;
  let total = 0;
  for (let i = 0; i < table.length; i++) {
    error += (table[i]! - reconstruction[i]!) ** 2;
    total += table[i]! ** 2;
  }
  return error / total;
}

describe('product quantization', () => {
  const table = structuredTable(3);

  it('learns an orthogonal rotation (R · Rᵀ = I) with rotation rounds, and none without', () => {
    const rotated = quantizePq(table, ROWS, WIDTH, { subspaces: SUBSPACES, rotationRounds: 5 });
    const r = rotated.rotation!;
    expect(r).toHaveLength(WIDTH * WIDTH);
    let worst = 0;
    for (let i = 0; i < WIDTH; i++) {
      for (let j = 0; j < WIDTH; j++) {
        let dot = 0;
        for (let k = 0; k < WIDTH; k++) dot += r[i * WIDTH + k]! * r[j * WIDTH + k]!;
        worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    // Not the identity: the rounds moved it.
    let offDiagonal = 0;
    for (let i = 0; i < WIDTH; i++) for (let j = 0; j < WIDTH; j++) if (i !== j) offDiagonal = Math.max(offDiagonal, Math.abs(r[i * WIDTH + j]!));
    expect(offDiagonal).toBeGreaterThan(0.1);
    expect(quantizePq(table, ROWS, WIDTH, { subspaces: SUBSPACES, rotationRounds: 0 }).rotation).toBeUndefined();
  });

  it('reconstructs a table whose variance crosses the sub-spaces with a lower error than plain PQ', () => {
    const plain = relativeError(table, { rotationRounds: 0 });
    const rotated = relativeError(table, { rotationRounds: 8 });
    expect(rotated).toBeLessThan(plain * 0.8);
  });

  it('gives the same codes, codebooks and rotation for the same seed, others for another seed', () => {
    const options = { subspaces: SUBSPACES, rotationRounds: 3, sample: 1000, seed: 5 };
    const a = quantizePq(table, ROWS, WIDTH, options);
    const b = quantizePq(table, ROWS, WIDTH, options);
    expect(Buffer.from(b.codes).equals(Buffer.from(a.codes))).toBe(true);
    expect(Buffer.from(b.codebooks.buffer).equals(Buffer.from(a.codebooks.buffer))).toBe(true);
    expect(Buffer.from(b.rotation!.buffer).equals(Buffer.from(a.rotation!.buffer))).toBe(true);
    const other = quantizePq(table, ROWS, WIDTH, { ...options, seed: 6 });
    expect(Buffer.from(other.codebooks.buffer).equals(Buffer.from(a.codebooks.buffer))).toBe(false);
  });

  it('defaults to the most sub-spaces of 8 to 32 whose codes fit 12 MB: 32 bytes per item at 43k items, 8 at a million', () => {
    expect([43_097, 375_000, 375_001, 750_000, 750_001, 1_000_000].map((rows) => pqSubspaces(64, rows))).toEqual([32, 32, 16, 16, 8, 8]);
    // Sub-spaces at least 2 columns wide and dividing the width; never fewer than 8 where it allows, fewer where it does not.
    expect([pqSubspaces(32, 1000), pqSubspaces(24, 600), pqSubspaces(40, 10_000_000), pqSubspaces(6, 10)]).toEqual([16, 12, 8, 3]);
  });

  it('encodes score-aware: more weight on the error along each row lowers that error and the row\'s score error against itself', () => {
    const rows = 800;
    const rng = new Rng(11);
    const random = Float32Array.from({ length: rows * WIDTH }, () => rng.normal());
    const errors = (anisotropy: number) => {
      const reconstruction = dequantizePq(quantizePq(random, rows, WIDTH, { subspaces: SUBSPACES, anisotropy, rotationRounds: 0 }));
      let along = 0;
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        let norm = 0;
        for (let d = 0; d < WIDTH; d++) {
          dot += (random[r * WIDTH + d]! - reconstruction[r * WIDTH + d]!) * random[r * WIDTH + d]!;
          norm += random[r * WIDTH + d]! ** 2;
        }
        // (x − x̃) · x: the error of the score x̃ · x; over ‖x‖ the error along x.
        along += dot ** 2 / norm;
      }
      return along / rows;
    };
    const plain = errors(1);
    expect(errors(3)).toBeLessThan(plain * 0.7);
    expect(() => quantizePq(random, rows, WIDTH, { anisotropy: 0.5 })).toThrow('pq: an anisotropy of at least 1, got 0.5');
  });
});
