/**
 * Item logits from the model's query vector, on the int8 table itself (kernel.ts): what the
 * graph's LM head computes, at a fraction of its time (BENCHMARKS.md, "Figures behind the
 * code").
 *
 * The query is quantized to int16 per call (one scale for the vector: relative error
 * ≤ 2^-16 of its largest entry), the table stays int8 as exported: the logits match the
 * graph's fp32 MatMul over the dequantized table to ~1e-4 (item-head.test.ts).
 */
import { instantiateScoreKernel, type ScoreKernel } from './kernel.js';
import type { Int8ItemHead } from './split.js';

const CHUNK = 16;
const PAGE = 65536;

/** Rounds up to a multiple of 16 bytes (v128 alignment). */
const align = (bytes: number) => Math.ceil(bytes / CHUNK) * CHUNK;

export class ItemScorer {
  readonly rows: number;
  readonly width: number;
  private readonly chunks: number;
  /** The largest int16 query code: Σ over a row of 127 · code must fit an int32. */
  private readonly codeLimit: number;
  private readonly at: { table: number; query: number; scales: number; bias: number; out: number };
  private readonly query: Int16Array;
  private readonly out: Float32Array;

  /** Undefined where WebAssembly SIMD is missing (the graph's own head then runs). */
  static create(head: Int8ItemHead): ItemScorer | undefined {
    const kernel = instantiateScoreKernel();
    return kernel && new ItemScorer(kernel, head);
  }

  private constructor(
    private readonly kernel: ScoreKernel,
    head: Int8ItemHead,
  ) {
    const { rows, width } = head;
    // The kernel's loops run at least once: an empty table would never end.
    if (!(rows >= 1 && width >= 1)) throw new Error(`item scorer: a table of ${rows} x ${width}`);
    this.rows = rows;
    this.width = width;
    this.chunks = Math.ceil(width / CHUNK);
    const padded = this.chunks * CHUNK;
    this.codeLimit = Math.min(32767, Math.floor((2 ** 31 - 1) / (padded * 127)));
    const table = 0;
    const query = align(table + rows * padded);
    const scales = align(query + padded * 2);
    const bias = align(scales + rows * 4);
    const out = align(bias + rows * 4);
    this.at = { table, query, scales, bias, out };
    const memory = kernel.memory;
    const needed = Math.ceil((out + rows * 4) / PAGE) - memory.buffer.byteLength / PAGE;
    if (needed > 0) memory.grow(needed);
    // Rows padded with zero codes to whole chunks; the memory starts zeroed.
    const codes = new Int8Array(memory.buffer, table, rows * padded);
    if (padded === width) codes.set(head.table);
    else for (let r = 0; r < rows; r++) codes.set(head.table.subarray(r * width, (r + 1) * width), r * padded);
    new Float32Array(memory.buffer, scales, rows).set(head.scales);
    if (head.bias) new Float32Array(memory.buffer, bias, rows).set(head.bias);
    this.query = new Int16Array(memory.buffer, query, padded);
    this.out = new Float32Array(memory.buffer, out, rows);
  }

  /** Writes the logit of every row (token) for `query` (width floats) into `into` (rows floats). */
  score(query: Float32Array, into: Float32Array): void {
    if (query.length !== this.width || into.length !== this.rows) {
      throw new Error(`item scorer: a query of ${query.length} for ${this.width} and an output of ${into.length} for ${this.rows} rows`);
    }
    let largest = 0;
    for (let d = 0; d < query.length; d++) largest = Math.max(largest, Math.abs(query[d]!));
    if (!Number.isFinite(largest)) {
      into.fill(Number.NaN); // as the graph's float MatMul would give
      return;
    }
    const step = largest / this.codeLimit;
    for (let d = 0; d < query.length; d++) this.query[d] = step === 0 ? 0 : Math.round(query[d]! / step);
    const { table, query: codes, scales, bias, out } = this.at;
    this.kernel.score(table, this.rows, this.chunks, codes, scales, bias, step, out);
    into.set(this.out);
  }
}
