/**
 * Item logits from the model's query vector on the product-quantized item table (core's model
 * contract, pqCodes / pqCodebooks) by asymmetric distance: per query, the dot product of each
 * sub-space's slice of the query with each of its 256 centroids (the lookup table, 256 · width
 * multiply-adds); per item, the sum of its M table entries (pq-kernel.ts). The graph's own head
 * computes q · row over the reconstructed rows: the same sums, grouped by sub-space, so the
 * logits agree to float rounding (gpt2-engine.test.ts).
 */
import { PQ_CENTROIDS } from '@hunch/core';
import { instantiateAdcKernel, type AdcKernel } from './pq-kernel.js';

const PAGE = 65536;
/** Items per kernel step (one per f32x4 lane). */
const LANES = 4;

export interface PqItemHead {
  rows: number;
  width: number;
  subspaces: number;
  /** [rows, subspaces] codes. */
  codes: Uint8Array;
  /** [subspaces · 256, width / subspaces] centroids. */
  codebooks: Float32Array;
  /** OPQ: the [width, width] rotation the codes were learned in (core's pqRotation); the query is turned by it first. */
  rotation?: Float32Array | undefined;
  /** Added to the logits, when the model has an item bias. */
  bias: Float32Array | undefined;
}

/** query · rotation ([width] · [width, width]), in float32. */
export function rotateQuery(query: Float32Array, rotation: Float32Array, width: number): Float32Array {
  const out = new Float32Array(width);
  for (let k = 0; k < width; k++) {
    const q = query[k]!;
    for (let j = 0; j < width; j++) out[j] = out[j]! + q * rotation[k * width + j]!;
  }
  return out;
}

/** The query's [subspaces, 256] lookup table: each sub-space's slice of `query` (rotated first, with OPQ) · each of its centroids, in float32. */
export function pqLookupTable(head: Pick<PqItemHead, 'width' | 'subspaces' | 'codebooks' | 'rotation'>, query: Float32Array, into: Float32Array = new Float32Array(head.subspaces * PQ_CENTROIDS)): Float32Array {
  const sub = head.width / head.subspaces;
  const { codebooks } = head;
  if (head.rotation) query = rotateQuery(query, head.rotation, head.width);
  for (let m = 0; m < head.subspaces; m++) {
    for (let c = 0; c < PQ_CENTROIDS; c++) {
      const row = (m * PQ_CENTROIDS + c) * sub;
      let dot = 0;
      for (let j = 0; j < sub; j++) dot += query[m * sub + j]! * codebooks[row + j]!;
      into[m * PQ_CENTROIDS + c] = dot;
    }
  }
  return into;
}

export class PqScorer {
  readonly rows: number;
  readonly width: number;
  private readonly blocks: number;
  private readonly at: { codes: number; lut: number; bias: number; out: number };
  private readonly lut: Float32Array;
  private readonly out: Float32Array;
  /** What the lookup table is computed from (the codes live in the kernel's memory only). */
  private readonly centroids: Pick<PqItemHead, 'width' | 'subspaces' | 'codebooks' | 'rotation'>;

  /** Undefined where WebAssembly SIMD is missing (the graph's own head then runs). */
  static create(head: PqItemHead): PqScorer | undefined {
    const kernel = instantiateAdcKernel();
    return kernel && new PqScorer(kernel, head);
  }

  private constructor(
    private readonly kernel: AdcKernel,
    head: PqItemHead,
  ) {
    const { rows, width, subspaces } = head;
    // The kernel's loops run at least once: an empty table would never end.
    if (!(rows >= 1 && subspaces >= 1 && width % subspaces === 0)) throw new Error(`pq scorer: a table of ${rows} x ${width} in ${subspaces} sub-spaces`);
    if (head.codes.length !== rows * subspaces || head.codebooks.length !== subspaces * PQ_CENTROIDS * (width / subspaces)) throw new Error('pq scorer: codes or codebooks of the wrong size');
    this.rows = rows;
    this.width = width;
    this.centroids = { width, subspaces, codebooks: head.codebooks, rotation: head.rotation };
    this.blocks = Math.ceil(rows / LANES);
    const padded = this.blocks * LANES;
    const codes = 0;
    const lut = codes + padded * subspaces; // a multiple of 4: floats stay aligned
    const bias = lut + subspaces * PQ_CENTROIDS * 4;
    const out = bias + padded * 4;
    this.at = { codes, lut, bias, out };
    const memory = kernel.memory;
    const needed = Math.ceil((out + padded * 4) / PAGE) - memory.buffer.byteLength / PAGE;
    if (needed > 0) memory.grow(needed);
    // [blocks, subspaces, 4]: the four items of a block side by side per sub-space (padding rows: code 0, discarded).
    const blocked = new Uint8Array(memory.buffer, codes, padded * subspaces);
    for (let r = 0; r < rows; r++) {
      const base = Math.floor(r / LANES) * subspaces * LANES + (r % LANES);
      for (let m = 0; m < subspaces; m++) blocked[base + m * LANES] = head.codes[r * subspaces + m]!;
    }
    if (head.bias) new Float32Array(memory.buffer, bias, rows).set(head.bias);
    this.lut = new Float32Array(memory.buffer, lut, subspaces * PQ_CENTROIDS);
    this.out = new Float32Array(memory.buffer, out, rows);
  }

  /** Writes the logit of every row (token) for `query` (width floats) into `into` (rows floats). */
  score(query: Float32Array, into: Float32Array): void {
    if (query.length !== this.width || into.length !== this.rows) {
      throw new Error(`pq scorer: a query of ${query.length} for ${this.width} and an output of ${into.length} for ${this.rows} rows`);
    }
    pqLookupTable(this.centroids, query, this.lut);
    const { codes, lut, bias, out } = this.at;
    this.kernel.adc(codes, this.blocks, this.centroids.subspaces, lut, bias, out);
    into.set(this.out);
  }
}
