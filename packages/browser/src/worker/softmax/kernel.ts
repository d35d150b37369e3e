/**
 * One pass over a run of item logits as a WebAssembly module with 128-bit SIMD, written out
 * byte by byte like the scoring kernels (no toolchain, nothing fetched):
 *
 *   summarise(logits, blocks, shift, threshold, candidates, result, weights)
 *
 * Four logits at a time (`blocks` of four, at byte offset `logits`), it keeps
 * - the sum of exp(logit - shift) per lane and the largest logit per lane (NaN never counts),
 *   written to `result` as [sum lanes, max lanes] (32 bytes) and then the end of the candidates;
 * - the candidates: the position (from 0 at `logits`) of every logit ≥ `threshold`, written as
 *   int32s from `candidates` on (the caller keeps the top and raises the threshold between runs);
 * - when `weights` is not 0, each exp(logit - shift) there (four floats per block).
 * exp is 2^n · p(r) (Cephes' expf: n = round(x · log2 e), r = x - n · ln 2 in two parts, p of
 * degree 7; relative error ~1e-7) on x clamped to [-87, 88]: a logit far below the shift weighs
 * e^-87, not 0, and none overflows. All pointers are byte offsets into the exported memory.
 */
import { I32, F32, V128, advance, brIfNonZero, f32x4, get, i32, i32x4, loop, module, op, set, tee, vector, when } from '../wasm/emit.js';

// Parameters, then locals.
const [logits, blocks, shift, threshold, candidates, result, weights] = [0, 1, 2, 3, 4, 5, 6];
const [value, sum, largest, x, n, p, mask, shiftV, thresholdV, position] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

/** Writes position + `lane` at `candidates`, which moves on 4 bytes when that lane passed. */
const candidate = (lane: number) => [
  ...get(candidates), ...get(position), ...i32(lane), ...op.i32Add, ...op.i32Store,
  ...get(candidates), ...get(mask), ...op.i32x4Lane(lane), ...i32(4), ...op.i32And, ...op.i32Add, ...set(candidates),
];

/** p = exp(x) for the four lanes of x (already clamped). */
const exp = [
  // n = round(x · log2 e); r = x - n · C1 - n · C2 (into x)
  ...get(x), ...f32x4(Math.LOG2E), ...op.f32x4Mul, ...op.f32x4Nearest, ...set(n),
  ...get(x), ...get(n), ...f32x4(0.693359375), ...op.f32x4Mul, ...op.f32x4Sub,
  ...get(n), ...f32x4(-2.12194440e-4), ...op.f32x4Mul, ...op.f32x4Sub, ...set(x),
  // p = ((((P0 r + P1) r + P2) r + P3) r + P4) r + P5; p = p r² + r + 1
  ...f32x4(1.9875691500e-4), ...get(x), ...op.f32x4Mul, ...f32x4(1.3981999507e-3), ...op.f32x4Add,
  ...get(x), ...op.f32x4Mul, ...f32x4(8.3334519073e-3), ...op.f32x4Add,
  ...get(x), ...op.f32x4Mul, ...f32x4(4.1665795894e-2), ...op.f32x4Add,
  ...get(x), ...op.f32x4Mul, ...f32x4(1.6666665459e-1), ...op.f32x4Add,
  ...get(x), ...op.f32x4Mul, ...f32x4(5.0000001201e-1), ...op.f32x4Add,
  ...get(x), ...op.f32x4Mul, ...get(x), ...op.f32x4Mul,
  ...get(x), ...op.f32x4Add, ...f32x4(1), ...op.f32x4Add,
  // · 2^n: (n + 127) << 23 as float bits (n in [-126, 127] after the clamp)
  ...get(n), ...op.i32x4FromF32x4, ...i32x4(127), ...op.i32x4Add, ...i32(23), ...op.i32x4Shl,
  ...op.f32x4Mul, ...set(p),
];

const body = [
  ...vector([
    [9, V128], // value, sum, largest, x, n, p, mask, shiftV, thresholdV
    [1, I32], // position
  ]),
  ...get(shift), ...op.f32x4Splat, ...set(shiftV),
  ...get(threshold), ...op.f32x4Splat, ...set(thresholdV),
  ...f32x4(-Infinity), ...set(largest),
  ...loop(
    get(logits), op.v128Load(), set(value),
    get(largest), get(value), op.f32x4Pmax, set(largest),
    // Candidates: rare once the threshold has risen, so behind one test per block.
    get(value), get(thresholdV), op.f32x4Ge, tee(mask), op.anyTrue,
    when(candidate(0), candidate(1), candidate(2), candidate(3)),
    // x = clamp(value - shift, -87, 88), a NaN to -87
    f32x4(-87), get(value), get(shiftV), op.f32x4Sub, op.f32x4Pmax,
    set(x), f32x4(88), get(x), op.f32x4Pmin, set(x),
    exp,
    get(sum), get(p), op.f32x4Add, set(sum),
    get(weights), when(get(weights), get(p), op.v128Store, advance(weights, 16)),
    advance(logits, 16),
    advance(position, 4),
    get(blocks), i32(1), op.i32Sub, tee(blocks), brIfNonZero,
  ),
  ...get(result), ...get(sum), ...op.v128Store,
  ...get(result), ...i32(16), ...op.i32Add, ...get(largest), ...op.v128Store,
  ...get(result), ...i32(32), ...op.i32Add, ...get(candidates), ...op.i32Store,
  0x0b, // end of function
];

/** The module: one function `summarise` and its memory (1 page; the caller grows it to fit). */
export const SUMMARISE_KERNEL = module('summarise', [I32, I32, F32, F32, I32, I32, I32], body);

export interface SummariseKernel {
  memory: WebAssembly.Memory;
  summarise(logits: number, blocks: number, shift: number, threshold: number, candidates: number, result: number, weights: number): void;
}

/** A fresh instance (its own memory), or undefined where WebAssembly SIMD is missing. */
export function instantiateSummariseKernel(): SummariseKernel | undefined {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(SUMMARISE_KERNEL)) return undefined;
  return new WebAssembly.Instance(new WebAssembly.Module(SUMMARISE_KERNEL), {}).exports as unknown as SummariseKernel;
}
