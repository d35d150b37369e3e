/**
 * Product quantization of the item table (the `pq` variant, core's model contract): the
 * [V, D] table is cut into M sub-spaces of D / M columns; k-means (Lloyd's, 256 centroids,
 * k-means++ seeding) in each gives a codebook, and every row becomes M one-byte codes, chosen
 * score-aware (the anisotropic loss: an error along the row's own direction costs more). At
 * n_embd 64 and 16 sub-spaces that is 16 bytes per item instead of int8's 68 (64 codes and a
 * scale). With `rotationRounds` the table is first turned by a learned orthogonal rotation (OPQ,
 * Ge et al. 2013: alternately k-means on the rotated rows and the rotation that best maps the
 * rows onto their reconstructions, orthogonal Procrustes); off by default, since on Diginetica
 * it did not rank better.
 * The browser scores a query by asymmetric distance: per query one table of dot products with
 * every centroid (after rotating the query), then per item a sum of M table entries (worker
 * item-head/).
 */
import { CONSTANT_PREFIX, PQ_CENTROIDS, pqCodebooks, pqCodes, pqRotation } from '@hunch/core';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
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
  /** OPQ: the orthogonal [width, width] rotation, row-major; the codes encode row · rotation. */
  rotation?: Float32Array;
}

export interface PqOptions {
  /** Sub-spaces (default pqSubspaces(width, rows)). */
  subspaces?: number;
  /** Lloyd iterations per sub-space for the final codebooks. */
  iterations?: number;
  /** OPQ: rounds of (k-means, rotation) before the final codebooks (default PQ_ROTATION_ROUNDS); 0: no rotation. */
  rotationRounds?: number;
  /** Rows k-means trains on (a seeded sample of the table beyond that; every row is encoded). */
  sample?: number;
  seed?: number;
  /**
   * Score-aware encoding (ScaNN's anisotropic loss, Guo et al. 2020): the error along the row
   * weighs `anisotropy` times the error across it, since a query that scores the row high lies
   * near its direction. 1: the nearest centroids. Default PQ_ANISOTROPY.
   */
  anisotropy?: number;
  /** Filled with the seconds each phase took (bench:pq). */
  timings?: PqTimings;
}

export interface PqTimings {
  rotation: number;
  codebooks: number;
  encoding: number;
}

/** OPQ rounds by default: none, since the rotation did not lower MRR@20's loss to the int8 file on Diginetica (BENCHMARKS.md "pq quality"). */
export const PQ_ROTATION_ROUNDS = 0;
/** The anisotropic loss's weight on the error along the row by default (BENCHMARKS.md "pq quality"). */
export const PQ_ANISOTROPY = 3;
/** Lloyd iterations per OPQ round (warm-started from the round before). */
const ROUND_ITERATIONS = 4;
/** Rows the rotation is learned on (evenly spread over the sampled rows). */
const ROTATION_SAMPLE = 16384;

/** Bytes of codes the default number of sub-spaces keeps within (the 16 MB first visit, less the item bias, at a million items). */
export const PQ_CODE_BUDGET = 12_000_000;
/** Sub-spaces (bytes per item) the default lies between, where the table allows. */
export const PQ_SUBSPACES_RANGE = { min: 8, max: 32 } as const;

/**
 * The default sub-spaces for a [rows, width] table: the most (at most 32, each at least 2
 * columns wide, dividing `width`) whose codes fit PQ_CODE_BUDGET, never fewer than 8 where the
 * width allows. At n_embd 64: 32 bytes per item up to 375,000 items, 16 up to 750,000, then 8.
 */
export function pqSubspaces(width: number, rows: number): number {
  const candidates: number[] = [];
  for (let m = Math.min(PQ_SUBSPACES_RANGE.max, Math.floor(width / 2)); m >= 1; m--) if (width % m === 0) candidates.push(m);
  return candidates.find((m) => m * rows <= PQ_CODE_BUDGET || m <= PQ_SUBSPACES_RANGE.min) ?? 1;
}

/** Trains the rotation (when asked) and codebooks on the table (or a sample of it) and encodes every row. */
export function quantizePq(table: Float32Array, rows: number, width: number, options: PqOptions = {}): PqTable {
  const subspaces = options.subspaces ?? pqSubspaces(width, rows);
  if (!(Number.isInteger(subspaces) && subspaces >= 1 && width % subspaces === 0)) throw new Error(`pq: ${subspaces} sub-spaces do not divide a width of ${width}`);
  if (rows < 1) throw new Error('pq: an empty item table');
  const anisotropy = options.anisotropy ?? PQ_ANISOTROPY;
  if (!(anisotropy >= 1)) throw new Error(`pq: an anisotropy of at least 1, got ${anisotropy}`);
  const rounds = options.rotationRounds ?? PQ_ROTATION_ROUNDS;
  const iterations = options.iterations ?? 20;
  const rng = new Rng(options.seed ?? 1);
  const sampled = sampleRows(rows, options.sample ?? 65536, rng);
  const points = new Float64Array(sampled.length * width);
  sampled.forEach((row, i) => {
    for (let d = 0; d < width; d++) points[i * width + d] = table[row * width + d]!;
  });
  const n = sampled.length;
  let rotation: Float64Array | undefined;
  let codebooks: Float32Array | undefined;
  let lastLap = performance.now();
  const lap = () => {
    const now = performance.now();
    const seconds = (now - lastLap) / 1000;
    lastLap = now;
    return seconds;
  };
  // Rows no more than a codebook holds are encoded exactly: nothing for a rotation to gain.
  if (rounds > 0 && n > PQ_CENTROIDS) {
    // The rotation is learned on a smaller sample (a 64 x 64 matrix needs far fewer rows than 256 centroids per sub-space).
    const few = Math.min(n, ROTATION_SAMPLE);
    const learnOn = new Float64Array(few * width);
    for (let i = 0; i < few; i++) learnOn.set(points.subarray(Math.floor((i * n) / few) * width, (Math.floor((i * n) / few) + 1) * width), i * width);
    rotation = identity(width);
    for (let round = 0; round < rounds; round++) {
      const rotated = rotate(learnOn, few, width, rotation);
      codebooks = trainCodebooks(rotated, few, width, subspaces, ROUND_ITERATIONS, rng, codebooks);
      const codes = new Uint8Array(few * subspaces);
      encodeRows(rotated, few, width, subspaces, codebooks, codes);
      rotation = procrustes(learnOn, reconstruct(codes, few, width, subspaces, codebooks), few, width);
    }
  }
  const rotationSeconds = lap();
  const trainOn = rotation ? rotate(points, n, width, rotation) : points;
  codebooks = trainCodebooks(trainOn, n, width, subspaces, iterations, rng, codebooks);
  const codebookSeconds = lap();
  const codes = new Uint8Array(rows * subspaces);
  // Every row, in blocks (a million rows at once would double the table in float64).
  const BLOCK = 4096;
  const block = new Float64Array(BLOCK * width);
  for (let from = 0; from < rows; from += BLOCK) {
    const count = Math.min(BLOCK, rows - from);
    for (let i = 0; i < count * width; i++) block[i] = table[from * width + i]!;
    const encoded = rotation ? rotate(block, count, width, rotation) : block;
    const into = codes.subarray(from * subspaces, (from + count) * subspaces);
    if (anisotropy === 1) encodeRows(encoded, count, width, subspaces, codebooks, into);
    else encodeAnisotropic(encoded, count, width, subspaces, codebooks, into, anisotropy);
  }
  if (options.timings) Object.assign(options.timings, { rotation: rotationSeconds, codebooks: codebookSeconds, encoding: lap() });
  return { rows, width, subspaces, codes, codebooks, ...(rotation ? { rotation: Float32Array.from(rotation) } : {}) };
}

/** The [rows, width] table the codes stand for (rotated back, where there is a rotation). */
export function dequantizePq(pq: PqTable): Float32Array {
  const { rows, width, subspaces, codes, codebooks, rotation } = pq;
  const rotated = reconstruct(codes, rows, width, subspaces, codebooks);
  if (!rotation) return Float32Array.from(rotated);
  // row = rotated row · rotationᵀ
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < width; i++) {
      let sum = 0;
      for (let j = 0; j < width; j++) sum += rotated[r * width + j]! * rotation[i * width + j]!;
      out[r * width + i] = sum;
    }
  }
  return out;
}

function identity(width: number): Float64Array {
  const m = new Float64Array(width * width);
  for (let i = 0; i < width; i++) m[i * width + i] = 1;
  return m;
}

/** points [n, width] · rotation [width, width]. */
function rotate(points: Float64Array, n: number, width: number, rotation: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n * width);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < width; k++) {
      const x = points[p * width + k]!;
      if (x === 0) continue;
      for (let j = 0; j < width; j++) out[p * width + j]! += x * rotation[k * width + j]!;
    }
  }
  return out;
}

/** The orthogonal R minimizing ‖points · R − targets‖: U Vᵀ from the SVD of pointsᵀ · targets. */
function procrustes(points: Float64Array, targets: Float64Array, n: number, width: number): Float64Array {
  const cross = new Float64Array(width * width);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < width; i++) {
      const x = points[p * width + i]!;
      if (x === 0) continue;
      for (let j = 0; j < width; j++) cross[i * width + j]! += x * targets[p * width + j]!;
    }
  }
  const rowsOf = (a: Float64Array) => Array.from({ length: width }, (_, i) => Array.from(a.subarray(i * width, (i + 1) * width)));
  const svd = new SingularValueDecomposition(new Matrix(rowsOf(cross)), { autoTranspose: false });
  const product = svd.leftSingularVectors.mmul(svd.rightSingularVectors.transpose());
  return Float64Array.from(product.to1DArray());
}

/** The [n, width] rows that `codes` stand for (in the codebooks' space). */
function reconstruct(codes: Uint8Array, n: number, width: number, subspaces: number, codebooks: Float32Array): Float64Array {
  const sub = width / subspaces;
  const out = new Float64Array(n * width);
  for (let r = 0; r < n; r++) {
    for (let m = 0; m < subspaces; m++) {
      const from = (m * PQ_CENTROIDS + codes[r * subspaces + m]!) * sub;
      for (let j = 0; j < sub; j++) out[r * width + m * sub + j] = codebooks[from + j]!;
    }
  }
  return out;
}

/** Sub-space m's columns of points [n, width] as contiguous [n, sub]. */
function subspaceColumns(points: Float64Array, n: number, width: number, sub: number, m: number): Float64Array {
  const out = new Float64Array(n * sub);
  for (let p = 0; p < n; p++) for (let j = 0; j < sub; j++) out[p * sub + j] = points[p * width + m * sub + j]!;
  return out;
}

/** k-means in each sub-space: [subspaces, PQ_CENTROIDS, sub] centroids, from `warm` ones when given. */
function trainCodebooks(points: Float64Array, n: number, width: number, subspaces: number, iterations: number, rng: Rng, warm?: Float32Array): Float32Array {
  const sub = width / subspaces;
  const codebooks = new Float32Array(subspaces * PQ_CENTROIDS * sub);
  for (let m = 0; m < subspaces; m++) {
    const at = m * PQ_CENTROIDS * sub;
    const start = warm?.slice(at, at + PQ_CENTROIDS * sub);
    codebooks.set(kMeans(subspaceColumns(points, n, width, sub, m), sub, iterations, rng, start), at);
  }
  return codebooks;
}

/** Each row's nearest centroid per sub-space into `codes` [n, subspaces]. */
function encodeRows(points: Float64Array, n: number, width: number, subspaces: number, codebooks: Float32Array, codes: Uint8Array): void {
  const sub = width / subspaces;
  for (let m = 0; m < subspaces; m++) {
    const centroids = codebooks.subarray(m * PQ_CENTROIDS * sub, (m + 1) * PQ_CENTROIDS * sub);
    const norms = halfNorms(centroids, sub);
    for (let r = 0; r < n; r++) codes[r * subspaces + m] = nearest(points, r * width + m * sub, centroids, norms, sub);
  }
}

/**
 * Encodes rows under the anisotropic loss ‖r‖² + (η − 1) (r · x)² / ‖x‖² (r = x − x̃) by
 * coordinate descent over the sub-spaces, from their nearest-centroid codes. Each candidate's
 * terms come from x_m · c, computed once per row: ‖x_m − c‖² = ‖x_m‖² − 2 x_m · c + ‖c‖² and
 * (x_m − c) · x_m = ‖x_m‖² − x_m · c, so the passes cost 256 · M additions, not 256 · width.
 */
function encodeAnisotropic(points: Float64Array, n: number, width: number, subspaces: number, codebooks: Float32Array, codes: Uint8Array, eta: number): void {
  const sub = width / subspaces;
  const PASSES = 3;
  const norms = new Float64Array(subspaces * PQ_CENTROIDS);
  for (let m = 0; m < subspaces; m++) norms.set(halfNorms(codebooks.subarray(m * PQ_CENTROIDS * sub, (m + 1) * PQ_CENTROIDS * sub), sub).map((h) => 2 * h), m * PQ_CENTROIDS);
  const dots = new Float64Array(subspaces * PQ_CENTROIDS);
  const own = new Float64Array(subspaces);
  const parallel = new Float64Array(subspaces);
  for (let r = 0; r < n; r++) {
    const x = r * width;
    let norm = 0;
    for (let m = 0; m < subspaces; m++) {
      let sum = 0;
      for (let j = 0; j < sub; j++) sum += points[x + m * sub + j]! ** 2;
      own[m] = sum;
      norm += sum;
      for (let c = 0; c < PQ_CENTROIDS; c++) {
        const at = (m * PQ_CENTROIDS + c) * sub;
        let dot = 0;
        for (let j = 0; j < sub; j++) dot += points[x + m * sub + j]! * codebooks[at + j]!;
        dots[m * PQ_CENTROIDS + c] = dot;
      }
    }
    // The nearest centroids first (‖c‖² − 2 x_m · c, the lowest index on ties, as nearest()).
    for (let m = 0; m < subspaces; m++) {
      let best = 0;
      for (let c = 1, k = m * PQ_CENTROIDS; c < PQ_CENTROIDS; c++) if (norms[k + c]! - 2 * dots[k + c]! < norms[k + best]! - 2 * dots[k + best]!) best = c;
      codes[r * subspaces + m] = best;
    }
    if (norm === 0) continue;
    const weight = (eta - 1) / norm;
    // parallel[m]: (x_m − c_m) · x_m for the current code; their sum is r · x.
    let along = 0;
    for (let m = 0; m < subspaces; m++) {
      parallel[m] = own[m]! - dots[m * PQ_CENTROIDS + codes[r * subspaces + m]!]!;
      along += parallel[m]!;
    }
    for (let pass = 0; pass < PASSES; pass++) {
      for (let m = 0; m < subspaces; m++) {
        const rest = along - parallel[m]!;
        let best = codes[r * subspaces + m]!;
        let bestLoss = Infinity;
        for (let c = 0, k = m * PQ_CENTROIDS; c < PQ_CENTROIDS; c++, k++) {
          const p = own[m]! - dots[k]!;
          const loss = own[m]! - 2 * dots[k]! + norms[k]! + weight * (rest + p) ** 2;
          if (loss < bestLoss) {
            bestLoss = loss;
            best = c;
          }
        }
        codes[r * subspaces + m] = best;
        parallel[m] = own[m]! - dots[m * PQ_CENTROIDS + best]!;
        along = rest + parallel[m]!;
      }
    }
  }
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

/** ‖c‖² / 2 per centroid: nearest() ranks by ‖c‖² / 2 − x · c, ‖x − c‖²'s order without ‖x‖². */
function halfNorms(centroids: Float32Array, sub: number): Float64Array {
  const norms = new Float64Array(PQ_CENTROIDS);
  for (let c = 0; c < PQ_CENTROIDS; c++) {
    let sum = 0;
    for (let j = 0; j < sub; j++) sum += centroids[c * sub + j]! ** 2;
    norms[c] = sum / 2;
  }
  return norms;
}

/** The index of the centroid nearest `points[at .. at + sub)` (squared distance, the lowest index on ties). */
function nearest(points: Float64Array, at: number, centroids: Float32Array, norms: Float64Array, sub: number): number {
  let best = 0;
  let bestDistance = Infinity;
  if (sub === 2) {
    // The default sub-space widths at n_embd 64 (2, 4, 8 columns), unrolled: about twice as fast.
    const x0 = points[at]!, x1 = points[at + 1]!;
    for (let c = 0, k = 0; c < PQ_CENTROIDS; c++, k += 2) {
      const distance = norms[c]! - x0 * centroids[k]! - x1 * centroids[k + 1]!;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = c;
      }
    }
    return best;
  }
  if (sub === 8) {
    const x0 = points[at]!, x1 = points[at + 1]!, x2 = points[at + 2]!, x3 = points[at + 3]!;
    const x4 = points[at + 4]!, x5 = points[at + 5]!, x6 = points[at + 6]!, x7 = points[at + 7]!;
    for (let c = 0, k = 0; c < PQ_CENTROIDS; c++, k += 8) {
      const distance =
        norms[c]! - x0 * centroids[k]! - x1 * centroids[k + 1]! - x2 * centroids[k + 2]! - x3 * centroids[k + 3]! - x4 * centroids[k + 4]! - x5 * centroids[k + 5]! - x6 * centroids[k + 6]! - x7 * centroids[k + 7]!;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = c;
      }
    }
    return best;
  }
  if (sub === 4) {
    const x0 = points[at]!, x1 = points[at + 1]!, x2 = points[at + 2]!, x3 = points[at + 3]!;
    for (let c = 0, k = 0; c < PQ_CENTROIDS; c++, k += 4) {
      const distance = norms[c]! - x0 * centroids[k]! - x1 * centroids[k + 1]! - x2 * centroids[k + 2]! - x3 * centroids[k + 3]!;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = c;
      }
    }
    return best;
  }
  for (let c = 0; c < PQ_CENTROIDS; c++) {
    let distance = norms[c]!;
    for (let j = 0; j < sub; j++) distance -= points[at + j]! * centroids[c * sub + j]!;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

/** k-means++ seeding: each next centroid a point drawn with probability ∝ its squared distance to the nearest one so far. */
function seedPlusPlus(points: Float64Array, n: number, sub: number, rng: Rng): Float32Array {
  const centroids = new Float32Array(PQ_CENTROIDS * sub);
  const closest = new Float64Array(n).fill(Infinity);
  let pick = rng.int(n);
  for (let c = 0; c < PQ_CENTROIDS; c++) {
    for (let j = 0; j < sub; j++) centroids[c * sub + j] = points[pick * sub + j]!;
    let total = 0;
    for (let p = 0; p < n; p++) {
      let d = 0;
      for (let j = 0; j < sub; j++) d += (points[p * sub + j]! - centroids[c * sub + j]!) ** 2;
      if (d < closest[p]!) closest[p] = d;
      total += closest[p]!;
    }
    if (total === 0) {
      pick = rng.int(n);
      continue;
    }
    let target = rng.next() * total;
    pick = n - 1;
    for (let p = 0; p < n; p++) {
      target -= closest[p]!;
      if (target < 0) {
        pick = p;
        break;
      }
    }
  }
  return centroids;
}

/**
 * PQ_CENTROIDS centroids of `points` (n x sub) by Lloyd's iterations from `start` or a
 * k-means++ seeding; a centroid left empty restarts at a random point. Fewer points than
 * centroids: each point is a centroid (the rest repeat them), so every point is encoded exactly.
 */
function kMeans(points: Float64Array, sub: number, iterations: number, rng: Rng, start?: Float32Array): Float32Array {
  const n = points.length / sub;
  if (n <= PQ_CENTROIDS) {
    const centroids = new Float32Array(PQ_CENTROIDS * sub);
    for (let c = 0; c < PQ_CENTROIDS; c++) for (let j = 0; j < sub; j++) centroids[c * sub + j] = points[(c % n) * sub + j]!;
    return centroids;
  }
  const centroids = start ?? seedPlusPlus(points, n, sub, rng);
  const sums = new Float64Array(PQ_CENTROIDS * sub);
  const counts = new Uint32Array(PQ_CENTROIDS);
  const assigned = new Int32Array(n).fill(-1);
  for (let iteration = 0; iteration < iterations; iteration++) {
    sums.fill(0);
    counts.fill(0);
    let moved = 0;
    const norms = halfNorms(centroids, sub);
    for (let p = 0; p < n; p++) {
      const c = nearest(points, p * sub, centroids, norms, sub);
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

function rotationOf(g: GraphBuilder, name: string, rotation: Float32Array, width: number): string {
  return g.float(pqRotation(name), [width, width], rotation);
}

/**
 * Scores [..., width] of `query` against every row: query · tableᵀ over the table reconstructed
 * in the graph (onnxruntime folds it once, when the session is created); with a rotation, the
 * query turned into the codes' space first ((q · R) · ŷ = q · (ŷ · Rᵀ)).
 */
export function pqScores(g: GraphBuilder, query: string, name: string, pq: PqTable): string {
  const { codes, codebooks, offsets } = pqInitializers(g, name, pq);
  const shape = g.int64(`${CONSTANT_PREFIX}pq_table_shape`, [2], [pq.rows, pq.width]);
  const table = g.one('Reshape', [centroidsOf(g, codes, codebooks, offsets), shape]);
  const turned = pq.rotation ? g.one('MatMul', [query, rotationOf(g, name, pq.rotation, pq.width)]) : query;
  return g.one('MatMul', [turned, g.one('Transpose', [table], { perm: [1, 0] })]);
}

/** Rows `ids` [batch, seq] of the table as floats [batch, seq, width]: the codes of those rows only, then their centroids (rotated back). */
export function gatherPqRows(g: GraphBuilder, ids: string, name: string, pq: PqTable): string {
  const { codes, codebooks, offsets } = pqInitializers(g, name, pq);
  const shape = g.int64(`${CONSTANT_PREFIX}pq_rows_shape`, [3], [0, 0, pq.width]);
  const rows = g.one('Reshape', [centroidsOf(g, g.one('Gather', [codes, ids], { axis: 0 }), codebooks, offsets), shape]);
  return pq.rotation ? g.one('MatMul', [rows, g.one('Transpose', [rotationOf(g, name, pq.rotation, pq.width)], { perm: [1, 0] })]) : rows;
}
