/**
 * Writes the GPT-2 as an ONNX graph (opset 17, for LayerNormalization) that
 * onnxruntime and transformers.js run: inputs input_ids and attention_mask
 * [batch_size, sequence_length] int64, output logits [batch_size, sequence_length, vocab].
 * It computes exactly what model.ts computes, op for op, so the two agree to float
 * rounding. Weights are initializers under their Hugging Face names.
 */
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import type { GPT2Config } from './model.js';
import type { TensorMap } from './safetensors.js';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

export const ONNX_OPSET = 17;
/** The item-bias tensor the next-item trainer may add (next-item.ts ITEM_BIAS). */
const ITEM_BIAS = 'lm_head.bias';
export const ONNX_IR_VERSION = 8;

type Attribute = number | number[] | { float: number };

/** Collects nodes and initializers; every value gets a fresh readable name. */
class GraphBuilder {
  readonly nodes: Onnx.INodeProto[] = [];
  readonly initializers: Onnx.ITensorProto[] = [];
  private count = 0;

  /** Adds a node; `outputs` is a count (names are made up) or the output names. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs: number | string[] = 1): string[] {
    const names =
      typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `/${opType}_${this.count}${outputs > 1 ? `_${i}` : ''}`) : outputs;
    this.nodes.push({
      name: `${opType}_${this.count++}`,
      opType,
      input: inputs,
      output: names,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return names;
  }

  /** Shorthand for single-output ops. */
  one(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    return this.op(opType, inputs, attributes)[0]!;
  }

  float(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytesOf(data) });
    return name;
  }

  int64(name: string, dims: number[], values: number[]): string {
    this.initializers.push({ name, dims, dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }
}

function attribute(name: string, value: Attribute): Onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
  if (typeof value === 'object') return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value.float };
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/** Raw little-endian bytes (ONNX raw_data is little-endian; so is every platform Node runs on). */
function bytesOf(array: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
}

function valueInfo(name: string, elemType: number, dims: Array<string | number>): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export function buildOnnxModel(config: GPT2Config, weights: TensorMap): Uint8Array {
  const { nEmbd: D, nHead: H, nLayer, vocabSize: V, layerNormEpsilon } = config;
  const hd = D / H;
  const g = new GraphBuilder();
  const w = (name: string) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`missing tensor ${name}`);
    return g.float(name, tensor.shape, tensor.data);
  };
  const scalar = (name: string, value: number) => g.float(name, [], Float32Array.of(value));
  const one = scalar('const.one', 1);
  const half = scalar('const.half', 0.5);
  const negBig = scalar('const.mask_value', 1e9);
  const geluCoeff = scalar('const.gelu_coeff', 0.044715);
  const geluScale = scalar('const.gelu_scale', Math.sqrt(2 / Math.PI));
  const attnScale = scalar('const.attn_scale', 1 / Math.sqrt(hd));
  const headShape = g.int64('const.head_shape', [4], [0, 0, H, hd]);
  const mergedShape = g.int64('const.merged_shape', [3], [0, 0, D]);

  const wte = w('transformer.wte.weight');
  const wpe = w('transformer.wpe.weight');

  // Embeddings: token lookup plus positions 0..sequence_length-1 (from the input's shape).
  const tokens = g.one('Gather', [wte, 'input_ids'], { axis: 0 });
  const seqLen = g.one('Gather', [g.one('Shape', ['input_ids']), g.int64('const.i1', [], [1])], { axis: 0 });
  const positions = g.one('Range', [g.int64('const.i0', [], [0]), seqLen, g.int64('const.step', [], [1])]);
  let x = g.one('Add', [tokens, g.one('Gather', [wpe, positions], { axis: 0 })]);

  // Attention bias, as model.ts: 0 where key j <= query i and key j is not padding, else -1e9.
  const rows = g.one('Unsqueeze', [positions, g.int64('const.axes1', [1], [1])]);
  const cols = g.one('Unsqueeze', [positions, g.int64('const.axes0', [1], [0])]);
  const causal = g.one('Cast', [g.one('LessOrEqual', [cols, rows])], { to: DataType.FLOAT }); // [s, s]
  const keys = g.one('Unsqueeze', [g.one('Cast', ['attention_mask'], { to: DataType.FLOAT }), g.int64('const.axes12', [2], [1, 2])]); // [b, 1, 1, s]
  const allowed = g.one('Mul', [causal, keys]); // [b, 1, s, s]
  const maskBias = g.one('Mul', [g.one('Sub', [allowed, one]), negBig]);

  const layerNorm = (input: string, prefix: string) =>
    g.one('LayerNormalization', [input, w(`${prefix}.weight`), w(`${prefix}.bias`)], { axis: -1, epsilon: { float: layerNormEpsilon } });
  const linear = (input: string, prefix: string) => g.one('Add', [g.one('MatMul', [input, w(`${prefix}.weight`)]), w(`${prefix}.bias`)]);

  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    // Causal self-attention.
    const [q, k, v] = g.op('Split', [linear(layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`)], { axis: 2 }, 3) as [string, string, string];
    const heads = (t: string, perm: number[]) => g.one('Transpose', [g.one('Reshape', [t, headShape])], { perm });
    const scores = g.one('Add', [g.one('Mul', [g.one('MatMul', [heads(q, [0, 2, 1, 3]), heads(k, [0, 2, 3, 1])]), attnScale]), maskBias]);
    const y = g.one('MatMul', [g.one('Softmax', [scores], { axis: -1 }), heads(v, [0, 2, 1, 3])]);
    const merged = g.one('Reshape', [g.one('Transpose', [y], { perm: [0, 2, 1, 3] }), mergedShape]);
    x = g.one('Add', [x, linear(merged, `${h}.attn.c_proj`)]);
    // MLP with GELU (tanh approximation) from basic ops.
    const u = linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`);
    const cube = g.one('Mul', [g.one('Mul', [u, u]), u]);
    const inner = g.one('Mul', [g.one('Add', [u, g.one('Mul', [cube, geluCoeff])]), geluScale]);
    const gelu = g.one('Mul', [g.one('Mul', [u, half]), g.one('Add', [g.one('Tanh', [inner]), one])]);
    x = g.one('Add', [x, linear(gelu, `${h}.mlp.c_proj`)]);
  }

  // Tied LM head: logits = ln_f(x) · wteᵀ, plus the item bias when the checkpoint has one
  // (the next-item trainer's `lm_head.bias`; HF GPT-2 has none).
  const final = layerNorm(x, 'transformer.ln_f');
  const wteT = g.one('Transpose', [wte], { perm: [1, 0] });
  if (weights.has(ITEM_BIAS)) g.op('Add', [g.one('MatMul', [final, wteT]), w(ITEM_BIAS)], {}, ['logits']);
  else g.op('MatMul', [final, wteT], {}, ['logits']);

  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'hunch-trainer',
    producerVersion: '0.1.0',
    graph: {
      name: 'gpt2',
      node: g.nodes,
      initializer: g.initializers,
      input: [
        valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
        valueInfo('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']),
      ],
      output: [valueInfo('logits', DataType.FLOAT, ['batch_size', 'sequence_length', V])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
