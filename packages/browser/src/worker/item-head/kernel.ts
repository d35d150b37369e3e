/**
 * The item head's inner loop as a WebAssembly module with 128-bit SIMD, written out here
 * byte by byte (240 bytes; no toolchain, nothing fetched). onnxruntime-web's own .wasm needs
 * the same SIMD and CSP ('wasm-unsafe-eval'), so wherever the model runs on WASM this does.
 *
 *   score(table, rows, chunks, query, scales, bias, queryScale, out)
 *
 * For each of `rows` rows of int8 codes (`chunks` x 16 bytes each, zero-padded) at `table`:
 *   out[r] = f32(Σ_d table[r][d] · query[d]) · scales[r] · queryScale + bias[r]
 * with `query` as int16 (chunks x 16 values). Per 16 codes: one load, two widenings to int16,
 * two i32x4.dot_i16x8_s (8 multiply-adds each) into an int32x4 accumulator.
 * All pointers are byte offsets into the module's exported memory.
 */
import { F32, I32, V128, advance, brIfNonZero, get, i32, loop, module, op, set, tee, vector } from '../wasm/emit.js';

// Parameters, then locals.
const [table, rows, chunks, query, scales, bias, queryScale, out] = [0, 1, 2, 3, 4, 5, 6, 7];
const [acc, codes, left, at] = [8, 9, 10, 11];

const body = [
  ...vector([
    [2, V128], // acc, codes
    [2, I32], // left (chunks to go), at (query pointer)
  ]),
  ...loop(
    // One row: acc = Σ over its chunks of dot(widened codes, query).
    op.v128Zero, set(acc),
    get(chunks), set(left),
    get(query), set(at),
    loop(
      get(table), op.v128Load(), set(codes),
      get(acc),
      get(codes), op.widenLow, get(at), op.v128Load(), op.dot, op.i32x4Add,
      get(codes), op.widenHigh, get(at), op.v128Load(16), op.dot, op.i32x4Add,
      set(acc),
      advance(table, 16),
      advance(at, 32),
      get(left), i32(1), op.i32Sub, tee(left), brIfNonZero,
    ),
    // out[r] = f32(lane sum) · scales[r] · queryScale + bias[r]
    get(out),
    get(acc), op.i32x4Lane(0), get(acc), op.i32x4Lane(1), op.i32Add, get(acc), op.i32x4Lane(2), op.i32Add, get(acc), op.i32x4Lane(3), op.i32Add,
    op.f32FromI32,
    get(scales), op.f32Load, op.f32Mul, get(queryScale), op.f32Mul,
    get(bias), op.f32Load, op.f32Add,
    op.f32Store,
    advance(out, 4),
    advance(scales, 4),
    advance(bias, 4),
    get(rows), i32(1), op.i32Sub, tee(rows), brIfNonZero,
  ),
  0x0b, // end of function
];

/** The module: one function `score` and its memory (1 page; the scorer grows it to fit). */
export const SCORE_KERNEL = module('score', [I32, I32, I32, I32, I32, I32, F32, I32], body);

export interface ScoreKernel {
  memory: WebAssembly.Memory;
  score(table: number, rows: number, chunks: number, query: number, scales: number, bias: number, queryScale: number, out: number): void;
}

/** A fresh instance (its own memory), or undefined where WebAssembly SIMD is missing. */
export function instantiateScoreKernel(): ScoreKernel | undefined {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(SCORE_KERNEL)) return undefined;
  return new WebAssembly.Instance(new WebAssembly.Module(SCORE_KERNEL), {}).exports as unknown as ScoreKernel;
}
