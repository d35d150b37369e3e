/**
 * The product-quantized item table's scoring loop (asymmetric distance) as a WebAssembly
 * module with 128-bit SIMD, written out byte by byte like kernel.ts (no toolchain, nothing
 * fetched):
 *
 *   adc(codes, blocks, subspaces, lut, bias, out)
 *
 * Items go four at a time, one per f32x4 lane. `codes` holds, per block of four items and per
 * sub-space m, the four items' one-byte codes side by side ([blocks, subspaces, 4]); `lut` is
 * the query's [subspaces, 256] table of float dot products with every centroid. Per block:
 *   out[i] = ((lut[0][c0] + lut[1][c1]) + … + lut[M-1][cM-1]) + bias[i]
 * summed in that order in float32 (what pq-scorer.ts's JS reference sums): four table entries
 * loaded into the lanes of one vector (v128.load32_lane: WebAssembly has no gather), one
 * f32x4.add per sub-space. All pointers are byte offsets into the module's exported memory.
 */
import { I32, V128, advance, brIfNonZero, get, i32, loop, module, op, set, tee, vector } from '../wasm/emit.js';

// Parameters, then locals.
const [codes, blocks, subspaces, lut, bias, out] = [0, 1, 2, 3, 4, 5];
const [acc, entries, left, at] = [6, 7, 8, 9];
/** One sub-space's lookup table: 256 floats. */
const LUT_BYTES = 1024;

/** lut[m][code of lane `lane`] into that lane of `entries`. */
const lane = (n: number) => [
  ...get(at), ...get(codes), ...op.i32Load8U(n), ...i32(2), ...op.i32Shl, ...op.i32Add,
  ...get(entries), ...op.v128Load32Lane(n), ...set(entries),
];

const body = [
  ...vector([
    [2, V128], // acc, entries
    [2, I32], // left (sub-spaces to go), at (this sub-space's table)
  ]),
  ...loop(
    // One block of four items.
    op.v128Zero, set(acc),
    get(subspaces), set(left),
    get(lut), set(at),
    loop(
      lane(0), lane(1), lane(2), lane(3),
      get(acc), get(entries), op.f32x4Add, set(acc),
      advance(codes, 4),
      advance(at, LUT_BYTES),
      get(left), i32(1), op.i32Sub, tee(left), brIfNonZero,
    ),
    get(out), get(acc), get(bias), op.v128Load(), op.f32x4Add, op.v128Store,
    advance(out, 16),
    advance(bias, 16),
    get(blocks), i32(1), op.i32Sub, tee(blocks), brIfNonZero,
  ),
  0x0b, // end of function
];

/** The module: one function `adc` and its memory (1 page; the scorer grows it to fit). */
export const ADC_KERNEL = module('adc', [I32, I32, I32, I32, I32, I32], body);

export interface AdcKernel {
  memory: WebAssembly.Memory;
  adc(codes: number, blocks: number, subspaces: number, lut: number, bias: number, out: number): void;
}

/** A fresh instance (its own memory), or undefined where WebAssembly SIMD is missing. */
export function instantiateAdcKernel(): AdcKernel | undefined {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(ADC_KERNEL)) return undefined;
  return new WebAssembly.Instance(new WebAssembly.Module(ADC_KERNEL), {}).exports as unknown as AdcKernel;
}
