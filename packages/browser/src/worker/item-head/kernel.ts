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

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

/** Unsigned LEB128, as the binary format writes counts, indices and offsets. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (text: string) => vector([...text].map((c) => [c.charCodeAt(0)]));

// Instructions used below (core opcodes, and 0xfd-prefixed SIMD ones).
const simd = (opcode: number, ...immediates: number[]) => [0xfd, ...uleb(opcode), ...immediates];
const get = (local: number) => [0x20, local];
const set = (local: number) => [0x21, local];
const tee = (local: number) => [0x22, local];
const i32 = (value: number) => [0x41, value]; // small non-negative constants only (one signed-LEB byte)
const memarg = (alignLog2: number, offset = 0) => [alignLog2, ...uleb(offset)];
const loop = (...body: number[][]) => [0x03, 0x40, ...body.flat(), 0x0b];
const brIfNonZero = [0x0d, 0]; // br_if to the innermost loop's start
const op = {
  i32Add: [0x6a],
  i32Sub: [0x6b],
  f32Load: [0x2a, ...memarg(2)],
  f32Store: [0x38, ...memarg(2)],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32FromI32: [0xb2], // f32.convert_i32_s
  v128Load: (offset = 0) => simd(0x00, ...memarg(0, offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  i32x4Lane: (lane: number) => simd(0x1b, lane), // i32x4.extract_lane
  widenLow: simd(0x87), // i16x8.extend_low_i8x16_s
  widenHigh: simd(0x88), // i16x8.extend_high_i8x16_s
  i32x4Add: simd(0xae),
  dot: simd(0xba), // i32x4.dot_i16x8_s
};

// Parameters, then locals.
const [table, rows, chunks, query, scales, bias, queryScale, out] = [0, 1, 2, 3, 4, 5, 6, 7];
const [acc, codes, left, at] = [8, 9, 10, 11];
const advance = (local: number, bytes: number) => [...get(local), ...i32(bytes), ...op.i32Add, ...set(local)];

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
export const SCORE_KERNEL = Uint8Array.from([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, vector([[0x60, ...vector([I32, I32, I32, I32, I32, I32, F32, I32].map((t) => [t])), 0]])), // type: (i32 x6, f32, i32) -> ()
  ...section(3, vector([[0]])), // function 0 has type 0
  ...section(5, vector([[0x00, 1]])), // memory: min 1 page, no max
  ...section(7, vector([[...name('memory'), 0x02, 0], [...name('score'), 0x00, 0]])), // exports
  ...section(10, vector([[...uleb(body.length), ...body]])), // code
]);

export interface ScoreKernel {
  memory: WebAssembly.Memory;
  score(table: number, rows: number, chunks: number, query: number, scales: number, bias: number, queryScale: number, out: number): void;
}

/** A fresh instance (its own memory), or undefined where WebAssembly SIMD is missing. */
export function instantiateScoreKernel(): ScoreKernel | undefined {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(SCORE_KERNEL)) return undefined;
  return new WebAssembly.Instance(new WebAssembly.Module(SCORE_KERNEL), {}).exports as unknown as ScoreKernel;
}
