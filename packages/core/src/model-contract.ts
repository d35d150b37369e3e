/**
 * The model contract: the names and versions the trainer's ONNX export (packages/trainer
 * onnx/gpt2.ts, graph.ts, quantize.ts) writes and the browser SDK reads back (worker/gpt2/
 * weights.ts, worker/item-head/split.ts, worker/variant.ts). Both sides import them from here,
 * so that renaming one on one side cannot leave the other reading a name no file has.
 *
 * Changing a value here changes what the exporter writes and what the browser looks for at
 * once: models exported before then no longer match it.
 */

/** The ONNX variants an export may hold (`hunch export --quant`). */
export type OnnxVariant = 'fp32' | 'int8' | 'q4' | 'pq';
export const ONNX_VARIANTS: readonly OnnxVariant[] = ['fp32', 'int8', 'q4', 'pq'];
/**
 * Where each variant's graph is in a model directory: where transformers.js looks for dtype
 * fp32, q8 and q4. The exporter writes them there, hunch.json's onnx.variants must name
 * exactly these paths (manifest.ts), and the worker fetches them (variant.ts).
 */
export const ONNX_VARIANT_FILES: Readonly<Record<OnnxVariant, string>> = {
  fp32: 'onnx/model.onnx',
  int8: 'onnx/model_quantized.onnx',
  q4: 'onnx/model_q4.onnx',
  // No transformers.js dtype names it: the worker hands it to transformers.js in place of the fp32 file.
  pq: 'onnx/model_pq.onnx',
};

/**
 * The ModelProto's producer_name: the trainer's exporter writes it, and the worker's own
 * GPT-2 (weights.ts) reads only files that carry it.
 */
export const MODEL_PRODUCER = 'hunch-trainer';
/**
 * The ModelProto's producer_version: the version of the graph the exporter writes. Raise it
 * whenever the graph changes; the worker's engine then falls back to onnxruntime until it is
 * checked against the new graph and the version added to GPT2_ENGINE_PRODUCER_VERSIONS.
 */
export const MODEL_PRODUCER_VERSION = '0.1.0';
/**
 * The exporter versions whose int8 graph the worker's own GPT-2 (browser worker/gpt2) was
 * checked against: it computes what they compute (gpt2-engine.test.ts fails while
 * MODEL_PRODUCER_VERSION is not among them). Files of other versions run in onnxruntime.
 */
export const GPT2_ENGINE_PRODUCER_VERSIONS: readonly string[] = ['0.1.0'];

// The Hunch scoring heads' tensors, under these names in a checkpoint and, as initializers,
// in the ONNX graph: the trainer learns them (next-item.ts), the exporter bakes them into the
// graph (onnx/gpt2.ts), and the worker's GPT-2 reads them from the int8 file (weights.ts).

/** The item bias [V], added to every item's logit (Hugging Face's LM head bias name). */
export const ITEM_BIAS = 'lm_head.bias';
/** Cosine scoring's τ (a scalar): the query is τ · h / |h| and the item table's rows unit length. */
export const COSINE_SCALE = 'hunch.cosine.scale';
/** The repeat bonus h · w + b: its w, [D] in a checkpoint and [D, 1] in the graph. */
export const REPEAT_WEIGHT = 'hunch.repeat.weight';
/** The repeat bonus's b [1]. */
export const REPEAT_BIAS = 'hunch.repeat.bias';

// GPT-2's own weights, under their Hugging Face GPT2LMHeadModel names (as the trainer's
// model.ts parameterShapes lists them): the exporter's initializer names, which weights.ts reads.

/** The item table [V, D]: the token embedding and the tied LM head. */
export const ITEM_TABLE = 'transformer.wte.weight';
/** The learned positions [P, D]. */
export const POSITION_TABLE = 'transformer.wpe.weight';
/** The final LayerNorm's prefix (`.weight`, `.bias`). */
export const FINAL_NORM = 'transformer.ln_f';
/** Block i's prefix: `.ln_1`, `.attn.c_attn`, `.attn.c_proj`, `.ln_2`, `.mlp.c_fc`, `.mlp.c_proj`. */
export const blockPrefix = (i: number): string => `transformer.h.${i}`;

/** An int8 weight `name`'s codes in the int8 graph (the trainer's quantize.ts writes them, weights.ts reads them). */
export const int8Codes = (name: string): string => `${name}.int8`;
/** Its scales: one per output channel, or one per row of the item table. */
export const int8Scales = (name: string): string => `${name}.scale`;

/**
 * A product-quantized item table (the `pq` variant; the trainer's onnx/pq.ts writes it, the
 * worker's item-head/pq-*.ts reads it): the [V, D] table cut into M sub-spaces of D / M
 * columns, each row stored as M one-byte codes [V, M] uint8 into M codebooks of 256 centroids,
 * stacked as [M · 256, D / M] float. Row r is the concatenation over m of codebook row
 * m · 256 + codes[r][m].
 */
export const pqCodes = (name: string): string => `${name}.pq_codes`;
export const pqCodebooks = (name: string): string => `${name}.pq_codebooks`;
/**
 * Optional (OPQ): an orthogonal [D, D] float rotation the codes were learned in: row · rotation
 * is what the codes encode, so a row is its reconstruction · rotationᵀ, and a query scores the
 * reconstructed rows as (query · rotation) · reconstruction. A file without it is plain pq.
 */
export const pqRotation = (name: string): string => `${name}.pq_rotation`;
/** Centroids per sub-space: one byte per code. */
export const PQ_CENTROIDS = 256;

/**
 * A float weight stored as IEEE half floats (the pq file's item bias: 2 bytes per item, not 4),
 * widened to float by a Cast in the graph.
 */
export const float16Values = (name: string): string => `${name}.fp16`;

/** IEEE 754 half-float bits of each value, rounded to nearest even (overflow to ±Infinity). */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  return Uint16Array.from(values, (value) => {
    f32[0] = value;
    const bits = u32[0]!;
    const sign = (bits >>> 16) & 0x8000;
    const exponent = (bits >>> 23) & 0xff;
    const mantissa = bits & 0x7fffff;
    if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Infinity, NaN
    const half = exponent - 127 + 15;
    if (half >= 0x1f) return sign | 0x7c00;
    // Keep `kept`, round on the `dropped` low bits: up past half, and at half to even.
    const round = (kept: number, dropped: number, width: number) => {
      const halfway = 1 << (width - 1);
      return kept + (dropped > halfway || (dropped === halfway && (kept & 1) === 1) ? 1 : 0);
    };
    if (half <= 0) {
      if (half < -10) return sign; // below half the smallest subnormal
      const full = mantissa | 0x800000;
      const shift = 14 - half;
      return sign | round(full >>> shift, full & ((1 << shift) - 1), shift);
    }
    const rounded = round((half << 10) | (mantissa >>> 13), mantissa & 0x1fff, 13);
    return sign | rounded; // a carry out of the mantissa rounds up the exponent, as it should
  });
}

/** The value of each of the 65,536 half floats, built on first use: a table lookup per value (a million in ~10 ms, not ~600). */
let halfFloatValues: Float32Array | undefined;

/** The values of IEEE 754 half-float bits. */
export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  if (!halfFloatValues) {
    halfFloatValues = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >>> 10) & 0x1f;
      const mantissa = h & 0x3ff;
      halfFloatValues[h] = exponent === 0 ? sign * mantissa * 2 ** -24 : exponent === 0x1f ? (mantissa ? NaN : sign * Infinity) : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    }
  }
  const values = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) values[i] = halfFloatValues[bits[i]!]!;
  return values;
}

/**
 * The graph's constants (shapes, GELU and attention scalars) are initializers named
 * `const.*`: weights.ts lets those be unused, any other initializer it does not read makes
 * it refuse the file.
 */
export const CONSTANT_PREFIX = 'const.';
/** The shape q, k and v are split into heads with, int64 [0, 0, heads, head width]: weights.ts reads the head count from it. */
export const HEAD_SHAPE = `${CONSTANT_PREFIX}head_shape`;

/** The graph's logits output (Hugging Face's name): split.ts finds the item head as what feeds it. */
export const LOGITS_OUTPUT = 'logits';
