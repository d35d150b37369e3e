/**
 * Just enough of the WebAssembly binary format to write the worker's small SIMD kernels by
 * hand (item-head/kernel.ts, gpt2/kernel.ts): no toolchain, nothing fetched.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Unsigned LEB128, as the binary format writes counts, indices and offsets. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

export const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (text: string) => vector([...text].map((c) => [c.charCodeAt(0)]));

// Instructions (core opcodes, and 0xfd-prefixed SIMD ones).
const simd = (opcode: number, ...immediates: number[]) => [0xfd, ...uleb(opcode), ...immediates];
export const get = (local: number): number[] => [0x20, local];
export const set = (local: number): number[] => [0x21, local];
export const tee = (local: number): number[] => [0x22, local];
/** Signed LEB128 (i32.const's immediate). */
function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}
export const i32 = (value: number): number[] => [0x41, ...sleb(value)];
const memarg = (alignLog2: number, offset = 0) => [alignLog2, ...uleb(offset)];
export const loop = (...body: number[][]): number[] => [0x03, 0x40, ...body.flat(), 0x0b];
/** if … end, on the i32 on the stack (no result). */
export const when = (...body: number[][]): number[] => [0x04, 0x40, ...body.flat(), 0x0b];
/** v128.const of four equal floats. */
export const f32x4 = (value: number): number[] => simd(0x0c, ...new Uint8Array(Float32Array.of(value, value, value, value).buffer));
/** v128.const of four equal int32s. */
export const i32x4 = (value: number): number[] => simd(0x0c, ...new Uint8Array(Int32Array.of(value, value, value, value).buffer));
/** local += bytes (a pointer moving on). */
export const advance = (local: number, bytes: number): number[] => [...get(local), ...i32(bytes), ...op.i32Add, ...set(local)];
/** br_if to the innermost loop's start. */
export const brIfNonZero = [0x0d, 0];
export const op = {
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32And: [0x71],
  i32Store: [0x36, ...memarg(2)],
  i32Load8U: (offset = 0) => [0x2d, ...memarg(0, offset)],
  f32Load: [0x2a, ...memarg(2)],
  f32Store: [0x38, ...memarg(2)],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32FromI32: [0xb2], // f32.convert_i32_s
  v128Load: (offset = 0) => simd(0x00, ...memarg(0, offset)),
  v128Store: simd(0x0b, ...memarg(0)),
  /** v128.load32_lane: one 32-bit value from memory into lane `lane` of the vector on the stack. */
  v128Load32Lane: (lane: number) => simd(0x56, ...memarg(2), lane),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f32x4Splat: simd(0x13),
  i32x4Lane: (lane: number) => simd(0x1b, lane), // i32x4.extract_lane
  widenLow: simd(0x87), // i16x8.extend_low_i8x16_s
  widenHigh: simd(0x88), // i16x8.extend_high_i8x16_s
  i32x4Add: simd(0xae),
  dot: simd(0xba), // i32x4.dot_i16x8_s
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  /** a < b ? b : a (a NaN in b is never taken). */
  f32x4Pmax: simd(0xeb),
  /** b < a ? b : a (a NaN in b is never taken). */
  f32x4Pmin: simd(0xea),
  f32x4Ge: simd(0x46),
  f32x4Nearest: simd(0x6a),
  i32x4FromF32x4: simd(0xf8), // i32x4.trunc_sat_f32x4_s
  i32x4Shl: simd(0xab),
  anyTrue: simd(0x53), // v128.any_true
};

/** A module of one exported function `name` (params, no results, the function body as given) and its exported memory (1 page, growable). */
export function module(exported: string, params: readonly number[], body: readonly number[]): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector([[0x60, ...vector(params.map((t) => [t])), 0]])), // type 0: (params) -> ()
    ...section(3, vector([[0]])), // function 0 has type 0
    ...section(5, vector([[0x00, 1]])), // memory: min 1 page, no max
    ...section(7, vector([[...name('memory'), 0x02, 0], [...name(exported), 0x00, 0]])), // exports
    ...section(10, vector([[...uleb(body.length), ...body]])), // code
  ]);
}
