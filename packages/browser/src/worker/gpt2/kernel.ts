/**
 * The GPT-2's linear layers as a WebAssembly module with 128-bit SIMD, written out byte by byte
 * (as item-head/kernel.ts): fast from the first call, where plain JS loops run interpreted for the
 * first tokens of a fresh worker (the cold start's first recommendation).
 *
 *   linear(x, inputs, weight, bias, out, groups)
 *
 * out = x · W + b for W row-major [inputs, 4 · groups] at `weight`: out starts as the bias, then
 * each input adds x[i] · W[i] four outputs at a time (f32x4 multiply, then add). All pointers
 * are byte offsets into the module's exported memory, 16-byte aligned.
 */
import { I32, V128, advance, brIfNonZero, get, i32, loop, module, op, set, tee, vector } from '../wasm/emit.js';

// Parameters, then locals.
const [x, inputs, weight, bias, out, groups] = [0, 1, 2, 3, 4, 5];
const [xi, w, o, left] = [6, 7, 8, 9];

const body = [
  ...vector([
    [1, V128], // xi: x[i] in every lane
    [3, I32], // w (weight pointer), o (output pointer), left (groups to go)
  ]),
  // out = bias
  ...get(out), ...set(o),
  ...get(bias), ...set(w),
  ...get(groups), ...set(left),
  ...loop(
    get(o), get(w), op.v128Load(), op.v128Store,
    advance(o, 16),
    advance(w, 16),
    get(left), i32(1), op.i32Sub, tee(left), brIfNonZero,
  ),
  // out += x[i] · W[i], row by row of W (contiguous)
  ...get(weight), ...set(w),
  ...loop(
    get(x), op.f32Load, op.f32x4Splat, set(xi),
    get(out), set(o),
    get(groups), set(left),
    loop(
      get(o),
      get(o), op.v128Load(), get(xi), get(w), op.v128Load(), op.f32x4Mul, op.f32x4Add,
      op.v128Store,
      advance(o, 16),
      advance(w, 16),
      get(left), i32(1), op.i32Sub, tee(left), brIfNonZero,
    ),
    advance(x, 4),
    get(inputs), i32(1), op.i32Sub, tee(inputs), brIfNonZero,
  ),
  0x0b, // end of function
];

export const LINEAR_KERNEL = module('linear', [I32, I32, I32, I32, I32, I32], body);

export interface LinearKernel {
  memory: WebAssembly.Memory;
  linear(x: number, inputs: number, weight: number, bias: number, out: number, groups: number): void;
}

/** A fresh instance (its own memory), or undefined where WebAssembly SIMD is missing. */
export function instantiateLinearKernel(): LinearKernel | undefined {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(LINEAR_KERNEL)) return undefined;
  return new WebAssembly.Instance(new WebAssembly.Module(LINEAR_KERNEL), {}).exports as unknown as LinearKernel;
}
