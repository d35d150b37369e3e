/**
 * The GPT-2 (plus Hunch's scoring heads) as an ONNX graph in the layout transformers.js
 * and Hugging Face Optimum use for decoder-only models with a KV cache:
 *
 *   inputs   input_ids [batch, seq] int64, attention_mask [batch, past + seq] int64,
 *            past_key_values.{i}.key / .value [batch, n_head, past, head_dim] float,
 *            num_logits_to_keep [] int64
 *   outputs  logits [batch, kept, vocab], present.{i}.key / .value [batch, n_head, past + seq, head_dim],
 *            and, with the repeat head, hunch_repeat [batch, kept, 1]
 *
 * num_logits_to_keep k (Hugging Face's, as transformers.js feeds it: 0 on a plain forward, 1
 * in generate()): 0 keeps every position (kept = seq), k > 0 only the last k (kept =
 * min(k, seq)). The final hidden states are sliced before the heads, so the LM head (the
 * graph's largest MatMul: [kept, D] x [D, V]) costs k rows, not seq; present.* always hold
 * every position.
 *
 * A first call passes past tensors with past = 0. Positions are absolute, past .. past +
 * seq - 1 (as the trainer's; there is no position_ids input, so right padding only).
 * It computes what model.ts and next-item/ compute, op for op, so they agree to float
 * rounding; weights are initializers under their Hugging Face names. Read top to bottom
 * like nanoGPT: embeddings, attention bias, blocks (attention with the cache, MLP), heads.
 *
 * Scoring heads (next-item/heads.ts, next-item/scorer.ts):
 * - `hunch.cosine.scale` τ: the item table's rows are L2-normalised here, once, at export
 *   (the exported table is the normalised one, as input embedding and tied LM head), and
 *   the final hidden state h becomes τ · h / |h| before the LM head.
 * - `lm_head.bias` [V]: added to the logits.
 * - `hunch.repeat.*`: hunch_repeat = h · w + b from the raw h (after ln_f, before any
 *   normalisation). The graph does not know the history; the caller adds hunch_repeat[b, t]
 *   to the logit of every item token among row b's tokens 0..t (once per item), where t is
 *   the position of that output row (with k kept of seq, row j is position seq - k + j).
 */
import { CONSTANT_PREFIX, COSINE_SCALE, FINAL_NORM, float16Values, HEAD_SHAPE, ITEM_BIAS, ITEM_TABLE as WTE, LOGITS_OUTPUT, POSITION_TABLE, REPEAT_BIAS, REPEAT_WEIGHT, blockPrefix, toFloat16Bits, type OnnxVariant } from '@hunch/core';
import type { GPT2Config } from '../model.js';
import type { TensorMap } from '../safetensors.js';
import { DataType, GraphBuilder, bytesOf, encodeModel, valueInfo } from './graph.js';
import { gatherPqRows, pqScores, quantizePq, type PqTable } from './pq.js';
import { dequantizeNode, gatherInt8Rows, gatherQ4, matMulNBits, quantizeInt8, quantizeQ4, transpose } from './quantize.js';

export const REPEAT_OUTPUT = 'hunch_repeat';
/** The int64 scalar input: how many trailing positions get logits (0: all). */
export const NUM_LOGITS_INPUT = 'num_logits_to_keep';
/** ONNX Slice's "to the end" (ends are clamped to the dimension). */
const INT64_MAX = 9223372036854775807n;

/** A graph constant's initializer name (the browser's weights.ts lets `const.*` initializers go unread). */
const constant = (name: string) => `${CONSTANT_PREFIX}${name}`;
/** As next-item/heads.ts normalizeRows: x / sqrt(Σx² + 1e-12). */
const NORM_EPS = 1e-12;

/** How the weights enter the graph: the only thing that differs between fp32, int8 and q4. */
interface Weights {
  /** A float initializer (LayerNorm, biases, positions, heads: never quantized). */
  float(name: string): string;
  /** x · W + b for the Conv1D-style `${prefix}.weight` [K, N] and `.bias` [N]. */
  linear(x: string, prefix: string): string;
  /** Rows of the item table for token ids: [batch, seq, D]. */
  embed(ids: string): string;
  /** q · tableᵀ: [batch, seq, V]. */
  head(q: string): string;
}

function tensorOf(weights: TensorMap, name: string) {
  const tensor = weights.get(name);
  if (!tensor) throw new Error(`missing tensor ${name}`);
  return tensor;
}

/** The item table as exported: L2-normalised rows under cosine scoring, else as trained. */
export function exportedTable(config: GPT2Config, weights: TensorMap): Float32Array {
  const wte = tensorOf(weights, WTE).data;
  if (!weights.get(COSINE_SCALE)?.data[0]) return wte;
  const D = config.nEmbd;
  const out = new Float32Array(wte.length);
  for (let r = 0; r < wte.length / D; r++) {
    let sum = 0;
    for (let d = 0; d < D; d++) sum = Math.fround(sum + Math.fround(wte[r * D + d]! * wte[r * D + d]!));
    const norm = Math.fround(Math.sqrt(Math.fround(sum + NORM_EPS)));
    for (let d = 0; d < D; d++) out[r * D + d] = wte[r * D + d]! / norm;
  }
  return out;
}

function variantWeights(g: GraphBuilder, config: GPT2Config, weights: TensorMap, variant: OnnxVariant, pqTable?: PqTable): Weights {
  const { vocabSize: V, nEmbd: D } = config;
  const table = exportedTable(config, weights);
  const float = (name: string) => {
    const tensor = tensorOf(weights, name);
    return g.float(name, tensor.shape, tensor.data);
  };
  const bias = (x: string, prefix: string) => g.one('Add', [x, float(`${prefix}.bias`)]);
  if (variant === 'fp32') {
    const wte = g.float(WTE, [V, D], table);
    return {
      float,
      linear: (x, prefix) => bias(g.one('MatMul', [x, float(`${prefix}.weight`)]), prefix),
      embed: (ids) => g.one('Gather', [wte, ids], { axis: 0 }),
      head: (q) => g.one('MatMul', [q, g.one('Transpose', [wte], { perm: [1, 0] })]),
    };
  }
  // Per output channel for [K, N] weights (axis 1), as int8; pq differs in the item table only.
  const int8Linear = (x: string, prefix: string) => {
    const { shape, data } = tensorOf(weights, `${prefix}.weight`);
    const [K, N] = shape as [number, number];
    return bias(g.one('MatMul', [x, dequantizeNode(g, `${prefix}.weight`, quantizeInt8(data, K, N, 1), K, N, 1)]), prefix);
  };
  if (variant === 'int8') {
    // Per row for the [V, D] table (axis 0).
    const wteCodes = quantizeInt8(table, V, D, 0);
    const wte = dequantizeNode(g, WTE, wteCodes, V, D, 0);
    return {
      float,
      linear: int8Linear,
      embed: (ids) => gatherInt8Rows(g, ids, WTE, wteCodes, V, D),
      head: (q) => g.one('MatMul', [q, g.one('Transpose', [wte], { perm: [1, 0] })]),
    };
  }
  if (variant === 'pq') {
    const pq = pqTable ?? quantizePq(table, V, D);
    return {
      // The item bias as half floats: at a million items 2 MB of the file, not 4 (the ranking it gives: BENCHMARKS.md).
      float: (name) => {
        if (name !== ITEM_BIAS) return float(name);
        const { shape, data } = tensorOf(weights, name);
        return g.one('Cast', [g.tensor(float16Values(name), DataType.FLOAT16, shape, bytesOf(toFloat16Bits(data)))], { to: DataType.FLOAT });
      },
      linear: int8Linear,
      embed: (ids) => gatherPqRows(g, ids, WTE, pq),
      head: (q) => pqScores(g, q, WTE, pq),
    };
  }
  // q4: MatMulNBits wants W as [N, K] (rows quantized along K); the table already is.
  const wte = quantizeQ4(table, V, D);
  return {
    float,
    linear: (x, prefix) => {
      const { shape, data } = tensorOf(weights, `${prefix}.weight`);
      const [K, N] = shape as [number, number];
      return bias(matMulNBits(g, x, `${prefix}.weight`, quantizeQ4(transpose(data, K, N), N, K)), prefix);
    },
    embed: (ids) => gatherQ4(g, ids, WTE, wte),
    head: (q) => matMulNBits(g, q, WTE, wte),
  };
}

/** The graph's shared constants. */
function constants(g: GraphBuilder, config: GPT2Config) {
  const hd = config.nEmbd / config.nHead;
  return {
    one: g.scalar(constant('one'), 1),
    half: g.scalar(constant('half'), 0.5),
    maskValue: g.scalar(constant('mask_value'), 1e9),
    geluCoeff: g.scalar(constant('gelu_coeff'), 0.044715),
    geluScale: g.scalar(constant('gelu_scale'), Math.sqrt(2 / Math.PI)),
    attnScale: g.scalar(constant('attn_scale'), 1 / Math.sqrt(hd)),
    headShape: g.int64(HEAD_SHAPE, [4], [0, 0, config.nHead, hd]),
    mergedShape: g.int64(constant('merged_shape'), [3], [0, 0, config.nEmbd]),
    i0: g.int64(constant('i0'), [], [0]),
    i1: g.int64(constant('i1'), [], [1]),
    i2: g.int64(constant('i2'), [], [2]),
    axes0: g.int64(constant('axes0'), [1], [0]),
    axes1: g.int64(constant('axes1'), [1], [1]),
    axes12: g.int64(constant('axes12'), [2], [1, 2]),
    axesLast: g.int64(constant('axes_last'), [1], [-1]),
  };
}
type Constants = ReturnType<typeof constants>;

/** dim `axis` of `x`'s shape, as an int64 scalar. */
const dim = (g: GraphBuilder, x: string, axis: string) => g.one('Gather', [g.one('Shape', [x]), axis], { axis: 0 });

/** Token embeddings plus learned positions past .. past + seq - 1; also returns those positions. */
function embeddings(g: GraphBuilder, c: Constants, w: Weights): { x: string; positions: string } {
  const past = dim(g, 'past_key_values.0.key', c.i2);
  const seq = dim(g, 'input_ids', c.i1);
  const positions = g.one('Range', [past, g.one('Add', [past, seq]), c.i1]);
  const x = g.one('Add', [w.embed('input_ids'), g.one('Gather', [w.float(POSITION_TABLE), positions], { axis: 0 })]);
  return { x, positions };
}

/**
 * Additive attention bias [batch, 1, seq, past + seq], as model.ts: 0 where key j <= the
 * query's position and key j is not padding (attention_mask), else -1e9.
 */
function attentionBias(g: GraphBuilder, c: Constants, positions: string): string {
  const keyPositions = g.one('Range', [c.i0, dim(g, 'attention_mask', c.i1), c.i1]);
  const rows = g.one('Unsqueeze', [positions, c.axes1]); // [seq, 1]
  const cols = g.one('Unsqueeze', [keyPositions, c.axes0]); // [1, total]
  const causal = g.one('Cast', [g.one('LessOrEqual', [cols, rows])], { to: DataType.FLOAT }); // [seq, total]
  const keys = g.one('Unsqueeze', [g.one('Cast', ['attention_mask'], { to: DataType.FLOAT }), c.axes12]); // [b, 1, 1, total]
  const allowed = g.one('Mul', [causal, keys]);
  return g.one('Mul', [g.one('Sub', [allowed, c.one]), c.maskValue]);
}

function layerNorm(g: GraphBuilder, w: Weights, config: GPT2Config, x: string, prefix: string): string {
  return g.one('LayerNormalization', [x, w.float(`${prefix}.weight`), w.float(`${prefix}.bias`)], { axis: -1, epsilon: { float: config.layerNormEpsilon } });
}

/** Causal self-attention of layer i over the cached keys/values and this call's; writes present.{i}.*. */
function attention(g: GraphBuilder, c: Constants, w: Weights, x: string, i: number, maskBias: string): string {
  const h = blockPrefix(i);
  const [q, k, v] = g.op('Split', [w.linear(x, `${h}.attn.c_attn`)], { axis: 2 }, 3) as [string, string, string];
  const heads = (t: string) => g.one('Transpose', [g.one('Reshape', [t, c.headShape])], { perm: [0, 2, 1, 3] }); // [b, H, s, hd]
  const keys = g.op('Concat', [`past_key_values.${i}.key`, heads(k)], { axis: 2 }, [`present.${i}.key`])[0]!;
  const values = g.op('Concat', [`past_key_values.${i}.value`, heads(v)], { axis: 2 }, [`present.${i}.value`])[0]!;
  const kT = g.one('Transpose', [keys], { perm: [0, 1, 3, 2] });
  const scores = g.one('Add', [g.one('Mul', [g.one('MatMul', [heads(q), kT]), c.attnScale]), maskBias]);
  const y = g.one('MatMul', [g.one('Softmax', [scores], { axis: -1 }), values]);
  const merged = g.one('Reshape', [g.one('Transpose', [y], { perm: [0, 2, 1, 3] }), c.mergedShape]);
  return w.linear(merged, `${h}.attn.c_proj`);
}

/** MLP with GELU (tanh approximation, "gelu_new") from basic ops. */
function mlp(g: GraphBuilder, c: Constants, w: Weights, x: string, i: number): string {
  const h = blockPrefix(i);
  const u = w.linear(x, `${h}.mlp.c_fc`);
  const cube = g.one('Mul', [g.one('Mul', [u, u]), u]);
  const inner = g.one('Mul', [g.one('Add', [u, g.one('Mul', [cube, c.geluCoeff])]), c.geluScale]);
  const gelu = g.one('Mul', [g.one('Mul', [u, c.half]), g.one('Add', [g.one('Tanh', [inner]), c.one])]);
  return w.linear(gelu, `${h}.mlp.c_proj`);
}

/**
 * The last `num_logits_to_keep` positions of `final` [batch, seq, D] (all of them for 0), as
 * Python's final[:, -k:]: Slice from -k (-0 = 0, the start; a k past seq clamps to it) to the end.
 */
function keptPositions(g: GraphBuilder, c: Constants, final: string): string {
  const start = g.one('Unsqueeze', [g.one('Neg', [NUM_LOGITS_INPUT]), c.axes0]); // [1]
  const end = g.tensor(constant('slice_to_end'), DataType.INT64, [1], bytesOf(BigInt64Array.of(INT64_MAX)));
  return g.one('Slice', [final, start, end, c.axes1]);
}

/** logits (tied LM head, cosine scaling, item bias) and hunch_repeat from the final hidden states kept. */
function heads(g: GraphBuilder, c: Constants, w: Weights, weights: TensorMap, final: string): void {
  if (weights.has(REPEAT_WEIGHT)) {
    const D = tensorOf(weights, REPEAT_WEIGHT).data.length;
    const column = g.float(REPEAT_WEIGHT, [D, 1], tensorOf(weights, REPEAT_WEIGHT).data);
    g.op('Add', [g.one('MatMul', [final, column]), w.float(REPEAT_BIAS)], {}, [REPEAT_OUTPUT]);
  }
  let query = final;
  const scale = weights.get(COSINE_SCALE)?.data[0];
  if (scale) {
    const squares = g.one('ReduceSum', [g.one('Mul', [final, final]), c.axesLast], { keepdims: 1 });
    const norm = g.one('Sqrt', [g.one('Add', [squares, g.scalar(constant('norm_eps'), NORM_EPS)])]);
    query = g.one('Mul', [g.one('Div', [final, norm]), g.scalar(COSINE_SCALE, scale)]);
  }
  if (weights.has(ITEM_BIAS)) g.op('Add', [w.head(query), w.float(ITEM_BIAS)], {}, [LOGITS_OUTPUT]);
  else g.op('Identity', [w.head(query)], {}, [LOGITS_OUTPUT]);
}

/**
 * The serialised ONNX model (fp32 unless `variant` says int8, q4 or pq). For pq, `pqTable` is
 * the exported table's codes and codebooks when already trained (else trained here).
 */
export function buildOnnxModel(config: GPT2Config, weights: TensorMap, variant: OnnxVariant = 'fp32', pqTable?: PqTable): Uint8Array {
  const { nEmbd: D, nHead: H, nLayer, vocabSize: V } = config;
  const hd = D / H;
  const g = new GraphBuilder();
  const c = constants(g, config);
  const w = variantWeights(g, config, weights, variant, pqTable);

  const { x: embedded, positions } = embeddings(g, c, w);
  const maskBias = attentionBias(g, c, positions);
  let x = embedded;
  for (let i = 0; i < nLayer; i++) {
    x = g.one('Add', [x, attention(g, c, w, layerNorm(g, w, config, x, `${blockPrefix(i)}.ln_1`), i, maskBias)]);
    x = g.one('Add', [x, mlp(g, c, w, layerNorm(g, w, config, x, `${blockPrefix(i)}.ln_2`), i)]);
  }
  heads(g, c, w, weights, keptPositions(g, c, layerNorm(g, w, config, x, FINAL_NORM)));

  const cache = (prefix: string, length: string) =>
    Array.from({ length: nLayer }, (_, i) => ['key', 'value'].map((kind) => valueInfo(`${prefix}.${i}.${kind}`, DataType.FLOAT, ['batch_size', H, length, hd]))).flat();
  return encodeModel(g, {
    name: 'gpt2',
    contrib: variant === 'q4',
    docString: weights.has(REPEAT_WEIGHT) ? `${REPEAT_OUTPUT}[b, t, 0] is to be added to the logit of every item token among row b's tokens 0..t (once per item); with ${NUM_LOGITS_INPUT} = k > 0, output row j is position seq - k + j` : undefined,
    inputs: [
      valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']),
      ...cache('past_key_values', 'past_sequence_length'),
      valueInfo(NUM_LOGITS_INPUT, DataType.INT64, []),
    ],
    outputs: [
      valueInfo(LOGITS_OUTPUT, DataType.FLOAT, ['batch_size', 'logits_sequence_length', V]),
      ...cache('present', 'total_sequence_length'),
      ...(weights.has(REPEAT_WEIGHT) ? [valueInfo(REPEAT_OUTPUT, DataType.FLOAT, ['batch_size', 'logits_sequence_length', 1])] : []),
    ],
  });
}
