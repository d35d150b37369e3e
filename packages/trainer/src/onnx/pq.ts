/**
 * Product quantization of the item table (the `pq` variant, core's model contract): the
 * [V, D] table is cut into M sub-spaces of D / M columns; k-means (Lloyd's, 256 centroids)
 * in each gives a codebook, and every row becomes M one-byte codes, the nearest centroid in
 * each sub-space. At n_embd 64 that is 16 bytes per item instead of int8's 68 (64 codes and a
 * scale). The browser scores a query by asymmetric distance: per query one table of dot
 * products with every centroid, then per item a sum of M table entries (worker item-head/).
 */
import { CONSTANT_PREFIX, PQ_CENTROIDS, pqCodebooks, pqCodes } from '@hunch/core';
import { Rng } from '../lib/prng.js';
import { DataType, GraphBuilder } from './graph.js';

export interface PqTable {
  rows: number;
  width: number;
  /** Sub-spaces: bytes per item. */
  subspaces: number;
  /** [rows, subspaces] codes, row-major. */
  codes: Uint8Array;
  /** [subspaces, PQ_CENTROIDS, width / subspaces] centroids. */
  codebooks: Float32Array;
}

export interface PqOptions {
  /** Sub-spaces (default pqSubspaces(width)). */
  subspaces?: number;
  /** Lloyd iterations per sub-space. */
  iterations?: number;
  /** Rows k-means trains on (a seeded sample of the table beyond that; every row is encoded). */
  sample?: number;
  seed?: number;
}

/** Sub-space width at least 4 columns, at most 16 sub-spaces (16 bytes per item): the largest such divisor of `width`. */
export function pqSubspaces(width: number): number {
  for (let m = Math.min(16, Math.floor(width / 4)); m > 1; m--) if (width % m === 0) return m;
  return 1;
}

/** Trains the codebooks on the table (or a sample of it) and encodes every row. */
export function quantizePq(table: Float32Array, rows: number, width: number, options: PqOptions = {}): PqTable {
  const subspaces = options.subspaces ?? pqSubspaces(width);
  if (!(Number.isInteger(subspaces) && subspaces >= 1 && width % subspaces === 0)) throw new Error(`pq: ${subspaces} sub-spaces do not divide a width of ${width}`);
  if (rows < 1) throw new Error('pq: an empty item table');
  const sub = width / subspaces;
  const rng = new Rng(options.seed ?? 1);
  const sampled = sampleRows(rows, options.sample ?? 65536, rng);
  const codebooks = new Float32Array(subspaces * PQ_CENTROIDS * sub);
  const codes = new Uint8Array(rows * subspaces);
  for (let m = 0; m < subspaces; m++) {
    const column = (row: number, into: Float64Array, at: number) => {
      for (let j = 0; j < sub; j++) into[at + j] = table[row * width + m * sub + j]!;
    };
    const points = new Float64Array(sampled.length * sub);
    sampled.forEach((row, i) => column(row, points, i * sub));
    const centroids = kMeans(points, sub, options.iterations ?? 20, rng);
    codebooks.set(centroids, m * PQ_CENTROIDS * sub);
    const point = new Float64Array(sub);
    for (let r = 0; r < rows; r++) {
      column(r, point, 0);
      codes[r * subspaces + m] = nearest(point, 0, centroids, sub);
    }
  }
  return { rows, width, subspaces, codes, codebooks };
}

/** The [rows, width] table the codes stand for. */
export function dequantizePq(pq: PqTable): Float32Array {
  const { rows, width, subspaces, codes, codebooks } = pq;
  const sub = width / subspaces;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < subspaces; m++) {
      const from = (m * PQ_CENTROIDS + codes[r * subspaces + m]!) * sub;
      out.set(codebooks.subarray(from, from + sub), r * width + m * sub);
    }
  }
  return out;
}

/** Up to `count` distinct row indexes, all rows when there are no more, in increasing order. */
function sampleRows(rows: number, count: number, rng: Rng): number[] {
  if (rows <= count) return Array.from({ length: rows }, (_, i) => i);
  // Floyd's algorithm: `count` distinct draws without a shuffle of every row.
  const chosen = new Set<number>();
  for (let j = rows - count; j < rows; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** The index of the centroid nearest `points[at .. at + sub)` (squared distance, the lowest index on ties). */
function nearest(points: Float64Array, at: number, centroids: Float32Array, sub: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let c = 0; c < PQ_CENTROIDS; c++) {
    let distance = 0;
    for (let j = 0; j < sub; j++) {
      const d = points[at + j]! - centroids[c * sub + j]!;
      distance += d * d;
    }
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

/**
 * PQ_CENTROIDS centroids of `points` (n x sub) by Lloyd's iterations from distinct random
 * points; a centroid left empty restarts at a random point. Fewer points than centroids: each
 * point is a centroid (the rest repeat them), so every point is encoded exactly.
 */
function kMeans(points: Float64Array, sub: number, iterations: number, rng: Rng): Float32Array {
  const n = points.length / sub;
  const centroids = new Float32Array(PQ_CENTROIDS * sub);
  const start = n <= PQ_CENTROIDS ? Array.from({ length: PQ_CENTROIDS }, (_, c) => c % n) : sampleRows(n, PQ_CENTROIDS, rng);
  start.forEach((p, c) => {
    for (let j = 0; j < sub; j++) centroids[c * sub + j] = points[p * sub + j]!;
  });
  if (n <= PQ_CENTROIDS) return centroids;
  const sums = new Float64Array(PQ_CENTROIDS * sub);
  const counts = new Uint32Array(PQ_CENTROIDS);
  const assigned = new Int32Array(n).fill(-1);
  for (let iteration = 0; iteration < iterations; iteration++) {
    sums.fill(0);
    counts.fill(0);
    let moved = 0;
    for (let p = 0; p < n; p++) {
      const c = nearest(points, p * sub, centroids, sub);
      if (c !== assigned[p]) moved++;
      assigned[p] = c;
      counts[c]!++;
      for (let j = 0; j < sub; j++) sums[c * sub + j]! += points[p * sub + j]!;
    }
    for (let c = 0; c < PQ_CENTROIDS; c++) {
      const from = counts[c] ? -1 : rng.int(n);
      for (let j = 0; j < sub; j++) centroids[c * sub + j] = from >= 0 ? points[from * sub + j]! : sums[c * sub + j]! / counts[c]!;
    }
    if (moved === 0) break;
  }
  return centroids;
}

/** The codes and codebooks initializers, and the per-sub-space offsets into the stacked codebooks (added once). */
function pqInitializers(g: GraphBuilder, name: string, pq: PqTable) {
  const sub = pq.width / pq.subspaces;
  return {
    codes: g.tensor(pqCodes(name), DataType.UINT8, [pq.rows, pq.subspaces], pq.codes),
    codebooks: g.float(pqCodebooks(name), [pq.subspaces * PQ_CENTROIDS, sub], pq.codebooks),
    offsets: g.int64(`${CONSTANT_PREFIX}pq_offsets`, [pq.subspaces], Array.from({ length: pq.subspaces }, (_, m) => m * PQ_CENTROIDS)),
  };
}

/** Codebook rows for codes [..., M] uint8: [..., M, D / M] floats. */
function centroidsOf(g: GraphBuilder, codes: string, codebooks: string, offsets: string): string {
  return g.one('Gather', [codebooks, g.one('Add', [g.one('Cast', [codes], { to: DataType.INT64 }), offsets])], { axis: 0 });
}

/** The whole [rows, width] float table, reconstructed in the graph (onnxruntime folds it once, when the session is created). */
export function pqTableNode(g: GraphBuilder, name: string, pq: PqTable): string {
  const { codes, codebooks, offsets } = pqInitializers(g, name, pq);
  const shape = g.int64(`${CONSTANT_PREFIX}pq_table_shape`, [2], [pq.rows, pq.width]);
  return g.one('Reshape', [centroidsOf(g, codes, codebooks, offsets), shape]);
}

/** Rows `ids` [batch, seq] of the table as floats [batch, seq, width]: the codes of those rows only, then their centroids. */
export function gatherPqRows(g: GraphBuilder, ids: string, name: string, pq: PqTable): string {
  const { codes, codebooks, offsets } = pqInitializers(g, name, pq);
  const shape = g.int64(`${CONSTANT_PREFIX}pq_rows_shape`, [3], [0, 0, pq.width]);
  return g.one('Reshape', [centroidsOf(g, g.one('Gather', [codes, ids], { axis: 0 }), codebooks, offsets), shape]);
}
