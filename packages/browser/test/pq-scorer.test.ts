/**
 * The worker's product-quantized item head (item-head/pq-scorer.ts, pq-kernel.ts): the SIMD
 * asymmetric-distance kernel against a JS reference summing the same lookup table in the same
 * order (equal to the bit, so equal top-k), and against float math over the reconstructed rows.
 * The trainer's quantizePq codes are checked too: each is its row's nearest centroid.
 */
import { PQ_CENTROIDS } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { PqScorer, pqLookupTable, type PqItemHead } from '../src/worker/item-head/pq-scorer.js';
import { Rng } from '../../trainer/src/lib/prng.js';
import { dequantizePq, pqSubspaces, quantizePq } from '../../trainer/src/onnx/pq.js';
import { maxAbsDiff, topIds } from './lib/exported-gpt2.js';

function randomTable(rows: number, width: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * width }, () => rng.normal());
}

function headOf(table: Float32Array, rows: number, width: number, bias: Float32Array | undefined): PqItemHead {
  const pq = quantizePq(table, rows, width, { iterations: 4, sample: 2000, rotationRounds: 3 });
  return { rows, width, subspaces: pq.subspaces, codes: pq.codes, codebooks: pq.codebooks, rotation: pq.rotation, bias };
}

/** ADC in plain JS: the lookup table's entries summed sub-space by sub-space in float32, then the bias. */
function adcReference(head: PqItemHead, query: Float32Array): Float32Array {
  const lut = pqLookupTable(head, query);
  return Float32Array.from({ length: head.rows }, (_, r) => {
    let sum = 0;
    for (let m = 0; m < head.subspaces; m++) sum = Math.fround(sum + lut[m * PQ_CENTROIDS + head.codes[r * head.subspaces + m]!]!);
    return Math.fround(sum + (head.bias?.[r] ?? 0));
  });
}

/** q · row + bias over the reconstructed rows, in float64. */
function floatReference(head: PqItemHead, query: Float32Array): Float64Array {
  const rows = dequantizePq({ ...head });
  return Float64Array.from({ length: head.rows }, (_, r) => {
    let dot = 0;
    for (let d = 0; d < head.width; d++) dot += rows[r * head.width + d]! * query[d]!;
    return dot + (head.bias?.[r] ?? 0);
  });
}

describe('PqScorer (the asymmetric-distance SIMD kernel)', () => {
  // 1001: a last block of one item; 40 wide: 20 sub-spaces of 2; 7 rows: fewer than a codebook holds.
  for (const [rows, width, withBias] of [[1001, 64, true], [258, 40, false], [7, 32, true]] as const) {
    it(`equals the JS reference to the bit, and float math to rounding, for ${rows} rows of width ${width}${withBias ? ' with a bias' : ''}`, () => {
      const rng = new Rng(rows);
      const bias = withBias ? Float32Array.from({ length: rows }, () => rng.normal()) : undefined;
      const head = headOf(randomTable(rows, width, rows + width), rows, width, bias);
      expect(head.subspaces).toBe(pqSubspaces(width, rows));
      // OPQ's rotation, which the lookup table turns the query by, wherever there are more rows than centroids.
      expect(head.rotation !== undefined).toBe(rows > PQ_CENTROIDS);
      const scorer = PqScorer.create(head)!;
      for (const magnitude of [1, 1e-3, 40]) {
        const query = Float32Array.from({ length: width }, () => rng.normal() * magnitude);
        const logits = new Float32Array(rows);
        scorer.score(query, logits);
        const exact = adcReference(head, query);
        expect(logits).toEqual(exact);
        expect(topIds(logits, 20)).toEqual(topIds(exact, 20));
        const float = floatReference(head, query);
        expect(maxAbsDiff(logits, float) / Math.max(...float.map(Math.abs))).toBeLessThan(1e-5);
      }
    });
  }

  it('refuses wrong sizes and an empty table', () => {
    const head = headOf(randomTable(20, 16, 5), 20, 16, undefined);
    const scorer = PqScorer.create(head)!;
    expect(() => scorer.score(new Float32Array(15), new Float32Array(20))).toThrow(/a query of 15 for 16/);
    expect(() => PqScorer.create({ ...head, rows: 0, codes: new Uint8Array(0) })).toThrow(/a table of 0 x 16/);
    expect(() => PqScorer.create({ ...head, codes: head.codes.subarray(1) })).toThrow(/wrong size/);
  });
});

describe('quantizePq (the trainer)', () => {
  // Sub-spaces of 2, 4, 8 and 3 columns (the first three have unrolled loops).
  for (const [width, subspaces] of [[24, 12], [24, 6], [32, 4], [24, 8]] as const) {
    it(`codes every row by its nearest centroid in each of ${subspaces} sub-spaces of ${width / subspaces} columns, and rows fewer than a codebook holds exactly`, () => {
      const rows = 600;
      const table = randomTable(rows, width, 9);
      // Plain nearest-centroid codes (the export's default encoding is score-aware: pq.test.ts).
      const pq = quantizePq(table, rows, width, { iterations: 5, rotationRounds: 0, anisotropy: 1, subspaces });
      expect(pq.subspaces).toBe(subspaces);
      expect(pq.codes.length).toBe(rows * subspaces);
      const sub = width / pq.subspaces;
      for (let r = 0; r < rows; r += 37) {
        for (let m = 0; m < pq.subspaces; m++) {
          const distance = (c: number) => {
            let sum = 0;
            for (let j = 0; j < sub; j++) sum += (table[r * width + m * sub + j]! - pq.codebooks[(m * PQ_CENTROIDS + c) * sub + j]!) ** 2;
            return sum;
          };
          const best = Math.min(...Array.from({ length: PQ_CENTROIDS }, (_, c) => distance(c)));
          expect(distance(pq.codes[r * pq.subspaces + m]!)).toBe(best);
        }
      }
      // Trained codebooks beat the starting ones: squared error below that of centroids left at random rows.
      const error = (decoded: Float32Array) => decoded.reduce((sum, v, i) => sum + (v - table[i]!) ** 2, 0);
      expect(error(dequantizePq(pq))).toBeLessThan(error(dequantizePq(quantizePq(table, rows, width, { iterations: 0, rotationRounds: 0, anisotropy: 1, subspaces }))));
      const few = randomTable(9, 8, 4);
      expect(dequantizePq(quantizePq(few, 9, 8))).toEqual(few);
      expect(() => quantizePq(few, 9, 8, { subspaces: 3 })).toThrow(/3 sub-spaces do not divide a width of 8/);
    });
  }
});
