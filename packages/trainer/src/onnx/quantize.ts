/**
 * Weight quantization for the exported graphs, and the nodes that use quantized weights.
 *
 * - int8 (`model_quantized.onnx`): symmetric int8 with one float scale per output channel
 *   (per row of the item table), dequantized in the graph (Cast, Mul: see dequantizeNode)
 *   feeding the float MatMuls; the input embedding gathers the table's int8 rows and their
 *   scales first (gatherInt8Rows): weight-only, activations stay fp32.
 * - q4 (`model_q4.onnx`): 4-bit blocks of 32 along the reduction axis, one float scale per
 *   block, in ONNX Runtime's `com.microsoft.MatMulNBits` layout: B is [N, blocks, 16] uint8,
 *   element k of a block in byte k/2, low nibble first; value = (code - 8) * scale (no
 *   zero_points input: the default zero point 8). The item table [V, D] is already [N, K]
 *   for the LM head (logits = h · tableᵀ), so one packed copy serves the LM head
 *   (MatMulNBits) and the input embedding (a Gather of packed rows unpacked with plain
 *   arithmetic ops, which every execution provider has).
 */
import { int8Codes, int8Scales } from '@hunch/core';
import { DataType, GraphBuilder, MS_DOMAIN, bytesOf } from './graph.js';

export const Q4_BLOCK = 32;
/** MatMulNBits' default zero point for 4 bits. */
const Q4_ZERO = 8;

export interface Int8Weight {
  q: Int8Array;
  /** One scale per slice along `axis`. */
  scales: Float32Array;
}

/**
 * Symmetric per-channel int8 of a row-major [rows, cols] matrix: one scale per row
 * (axis 0) or per column (axis 1), max |w| / 127, codes in [-127, 127].
 */
export function quantizeInt8(data: Float32Array, rows: number, cols: number, axis: 0 | 1): Int8Weight {
  const channels = axis === 0 ? rows : cols;
  const at = (channel: number, j: number) => (axis === 0 ? channel * cols + j : j * cols + channel);
  const length = axis === 0 ? cols : rows;
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let j = 0; j < length; j++) max = Math.max(max, Math.abs(data[at(c, j)]!));
    const scale = Math.fround(max / 127);
    scales[c] = scale;
    if (scale === 0) continue;
    for (let j = 0; j < length; j++) q[at(c, j)] = Math.max(-127, Math.min(127, Math.round(data[at(c, j)]! / scale)));
  }
  return { q, scales };
}

export function dequantizeInt8(w: Int8Weight, rows: number, cols: number, axis: 0 | 1): Float32Array {
  return Float32Array.from(w.q, (v, i) => v * w.scales[axis === 0 ? Math.floor(i / cols) : i % cols]!);
}

export interface Q4Weight {
  /** [N, blocks, 16] codes, low nibble first. */
  packed: Uint8Array;
  /** [N * blocks] scales. */
  scales: Float32Array;
  n: number;
  k: number;
  blocks: number;
}

/**
 * 4-bit blocks of a row-major [n, k] matrix along k (each row is one MatMulNBits output
 * column). Per block, as llama.cpp's q4_0: the element of largest magnitude m maps to code
 * 0 exactly (scale = m / -8), the rest round to the nearest of the 16 levels. Padding past
 * k (when k is not a multiple of 32) holds the zero code.
 */
export function quantizeQ4(data: Float32Array, n: number, k: number): Q4Weight {
  const blocks = Math.ceil(k / Q4_BLOCK);
  const packed = new Uint8Array(n * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(n * blocks);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const from = b * Q4_BLOCK;
      const to = Math.min(k, from + Q4_BLOCK);
      let extreme = 0;
      for (let j = from; j < to; j++) {
        const v = data[row * k + j]!;
        if (Math.abs(v) > Math.abs(extreme)) extreme = v;
      }
      const scale = Math.fround(extreme / -Q4_ZERO);
      scales[row * blocks + b] = scale;
      const base = (row * blocks + b) * (Q4_BLOCK / 2);
      for (let j = 0; j < Q4_BLOCK; j++) {
        const code = from + j < to && scale !== 0 ? Math.max(0, Math.min(15, Math.round(data[row * k + from + j]! / scale) + Q4_ZERO)) : Q4_ZERO;
        packed[base + (j >> 1)] = packed[base + (j >> 1)]! | (j & 1 ? code << 4 : code);
      }
    }
  }
  return { packed, scales, n, k, blocks };
}

/** The [n, k] matrix a Q4Weight stands for (the reference the tests check MatMulNBits against). */
export function dequantizeQ4(w: Q4Weight): Float32Array {
  const out = new Float32Array(w.n * w.k);
  for (let row = 0; row < w.n; row++) {
    for (let j = 0; j < w.k; j++) {
      const b = Math.floor(j / Q4_BLOCK);
      const within = j % Q4_BLOCK;
      const byte = w.packed[(row * w.blocks + b) * (Q4_BLOCK / 2) + (within >> 1)]!;
      const code = within & 1 ? byte >> 4 : byte & 15;
      out[row * w.k + j] = (code - Q4_ZERO) * w.scales[row * w.blocks + b]!;
    }
  }
  return out;
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * A float tensor [rows, cols] computed in the graph from int8 codes and per-`axis` scales,
 * as Cast(codes) * scales. Not DequantizeLinear: at level "extended" onnxruntime fuses
 * DequantizeLinear -> MatMul into an 8-bit MatMulNBits that, by default
 * (session.qdq_matmulnbits_accuracy_level 4), quantizes the activations to int8 too, so
 * outputs changed with the optimization level (by 2e-3 on a tiny model, 3e-2 on a random
 * one). Cast and Mul of initializers are plain arithmetic: onnxruntime folds them into
 * fp32 weights when the session is created (level "basic" and up), so the file is int8 and
 * the runtime math exact fp32 at every level.
 */
export function dequantizeNode(g: GraphBuilder, name: string, w: Int8Weight, rows: number, cols: number, axis: 0 | 1): string {
  const { q, scale } = int8Initializers(g, name, w, rows, cols, axis);
  return g.one('Mul', [g.one('Cast', [q], { to: DataType.FLOAT }), scale]);
}

/**
 * Rows `ids` [batch, seq] of a per-row int8 [rows, cols] matrix as floats [batch, seq, cols]:
 * the codes and scales of those rows only, then Cast and Mul, so the values are
 * dequantizeNode's. Gathering first leaves nothing of the table's size to fold when the
 * session is created (a Diginetica-size table is 11 MB of fp32), and nothing to compute but
 * the rows an input asks for.
 */
export function gatherInt8Rows(g: GraphBuilder, ids: string, name: string, w: Int8Weight, rows: number, cols: number): string {
  const { q, scale } = int8Initializers(g, name, w, rows, cols, 0);
  const codes = g.one('Cast', [g.one('Gather', [q, ids], { axis: 0 })], { to: DataType.FLOAT }); // [b, s, cols]
  return g.one('Mul', [codes, g.one('Gather', [scale, ids], { axis: 0 })]); // scales [b, s, 1]
}

/** The codes and scales initializers of an int8 weight (added once: dequantizeNode and gatherInt8Rows share them). */
function int8Initializers(g: GraphBuilder, name: string, w: Int8Weight, rows: number, cols: number, axis: 0 | 1): { q: string; scale: string } {
  return {
    q: g.tensor(int8Codes(name), DataType.INT8, [rows, cols], bytesOf(w.q)),
    scale: g.float(int8Scales(name), axis === 0 ? [rows, 1] : [cols], w.scales),
  };
}

/** Stores a Q4Weight as MatMulNBits' B and scales initializers. */
function q4Initializers(g: GraphBuilder, name: string, w: Q4Weight): { b: string; scales: string } {
  return {
    b: g.tensor(`${name}.q4`, DataType.UINT8, [w.n, w.blocks, Q4_BLOCK / 2], w.packed),
    scales: g.float(`${name}.q4_scale`, [w.n * w.blocks], w.scales),
  };
}

/** input [..., k] · Wᵀ where W = the q4 [n, k] matrix: [..., n]. */
export function matMulNBits(g: GraphBuilder, input: string, name: string, w: Q4Weight): string {
  const { b, scales } = q4Initializers(g, name, w);
  return g.one('MatMulNBits', [input, b, scales], { K: w.k, N: w.n, bits: 4, block_size: Q4_BLOCK }, MS_DOMAIN);
}

/**
 * Rows `ids` [batch, seq] of the q4 matrix, as floats [batch, seq, k]: gathers the packed
 * bytes and scales, splits each byte into its two codes with float arithmetic
 * (high = floor(byte / 16), low = byte - 16 high), and scales each block.
 */
export function gatherQ4(g: GraphBuilder, ids: string, name: string, w: Q4Weight): string {
  const { b, scales } = q4Initializers(g, name, w);
  const bytes = g.one('Cast', [g.one('Gather', [b, ids], { axis: 0 })], { to: DataType.FLOAT }); // [b, s, blocks, 16]
  const high = g.one('Floor', [g.one('Div', [bytes, g.scalar('const.q4.sixteen', 16)])]);
  const low = g.one('Sub', [bytes, g.one('Mul', [high, g.scalar('const.q4.sixteen', 16)])]);
  const last = g.int64('const.q4.axis_last', [1], [-1]);
  // [b, s, blocks, 16, 2] -> [b, s, blocks, 32]: element 2j is byte j's low nibble.
  const pairs = g.one('Concat', [g.one('Unsqueeze', [low, last]), g.one('Unsqueeze', [high, last])], { axis: -1 });
  const codes = g.one('Reshape', [pairs, g.int64('const.q4.block_shape', [4], [0, 0, w.blocks, Q4_BLOCK])]);
  const table = g.one('Reshape', [scales, g.int64(`${name}.q4_scale_rows`, [2], [w.n, w.blocks])]); // [n, blocks]
  const blockScales = g.one('Unsqueeze', [g.one('Gather', [table, ids], { axis: 0 }), last]); // [b, s, blocks, 1]
  const values = g.one('Mul', [g.one('Sub', [codes, g.scalar('const.q4.zero', Q4_ZERO)]), blockScales]);
  const flat = g.one('Reshape', [values, g.int64('const.q4.row_shape', [3], [0, 0, w.blocks * Q4_BLOCK])]);
  if (w.blocks * Q4_BLOCK === w.k) return flat;
  return g.one('Slice', [flat, g.int64('const.q4.slice_start', [1], [0]), g.int64(`const.q4.slice_end_${w.k}`, [1], [w.k]), g.int64('const.q4.slice_axis', [1], [2])]);
}
