/**
 * The weights of a Hunch int8 GPT-2 export (the trainer's onnx/gpt2.ts), read from the ONNX
 * file itself: initializers under their Hugging Face names, linear weights as int8 codes
 * with one scale per output channel, the item table as int8 rows with one scale per row.
 *
 * The file is accepted only when it is exactly that graph: written by a hunch-trainer version
 * whose graph model.ts computes (a new exporter version must be checked against it and added
 * to core's GPT2_ENGINE_PRODUCER_VERSIONS: gpt2-engine.test.ts fails until then), every weight
 * of a GPT-2 present with the shapes the configuration implies, and no initializer the engine
 * would not use (other than the graph's constants). Anything else — another producer, fp32 or
 * 4-bit, a graph with extra parts — is undefined: onnxruntime runs it. The names and versions
 * are core's model contract (model-contract.ts), which the trainer's exporter writes with.
 */
import { CONSTANT_PREFIX, COSINE_SCALE, FINAL_NORM, float16Values, fromFloat16Bits, GPT2_ENGINE_PRODUCER_VERSIONS, HEAD_SHAPE, ITEM_BIAS, MODEL_PRODUCER, POSITION_TABLE, REPEAT_BIAS, REPEAT_WEIGHT, blockPrefix, int8Codes, int8Scales } from '@hunch/core';
import { readItemTable } from './item-table.js';
import type { ItemTable } from '../item-head/item-table.js';
import { DATA_TYPE, attributeFloat, floats, int64Values, int8s, readModelGraph, type Initializer } from '../onnx/model-proto.js';

/** x · W + b with W [inputs, outputs] dequantized to fp32 (what onnxruntime folds Cast · scale into). */
export interface Linear {
  inputs: number;
  outputs: number;
  /** Row-major [inputs, outputs]. */
  weight: Float32Array;
  bias: Float32Array;
}

export interface LayerNorm {
  weight: Float32Array;
  bias: Float32Array;
}

export interface Block {
  ln1: LayerNorm;
  /** x → q, k, v (3 · width outputs). */
  attention: Linear;
  attentionOut: Linear;
  ln2: LayerNorm;
  mlpIn: Linear;
  mlpOut: Linear;
}

export interface Gpt2Weights {
  vocabulary: number;
  positions: number;
  width: number;
  heads: number;
  epsilon: number;
  /** The item table [vocabulary, width]: int8 codes (a view on the file's bytes) and one scale per row, or pq codes and codebooks. Input embedding and tied LM head. */
  items: ItemTable;
  /** Learned positions [positions, width]. */
  wpe: Float32Array;
  blocks: Block[];
  lnF: LayerNorm;
  /** Added to each item's logit. */
  itemBias: Float32Array | undefined;
  /** τ: the query is τ · h / |h| (cosine scoring) when set. */
  cosineScale: number | undefined;
  /** The repeat bonus h · w + b, from the final hidden state before any normalisation. */
  repeat: { weight: Float32Array; bias: number } | undefined;
}

/** The constants the exporter adds beside the weights (const.*: shapes, GELU and attention scalars). */
const isConstant = (name: string) => name.startsWith(CONSTANT_PREFIX);

/**
 * The weights of `model` when it is a Hunch int8 GPT-2 export, else undefined. Its head count
 * is the graph's own (the shape it splits q, k and v with), and must be `heads` (hunch.json
 * onnx.cache.heads). Throws only on bytes that are not protobuf.
 */
export function readGpt2Weights(model: Uint8Array, heads: number): Gpt2Weights | undefined {
  const graph = readModelGraph(model);
  if (!graph || graph.producerName !== MODEL_PRODUCER || !GPT2_ENGINE_PRODUCER_VERSIONS.includes(graph.producerVersion)) return undefined;
  const { initializers } = graph;
  const used = new Set<string>();
  const tensor = (name: string, dataType: number, dims: readonly number[]): (Initializer & { data: Uint8Array }) | undefined => {
    const found = initializers.get(name);
    const size = dims.reduce((n, d) => n * d, 1) * (dataType === DATA_TYPE.float ? 4 : dataType === DATA_TYPE.float16 ? 2 : 1);
    if (!found?.data || found.dataType !== dataType || found.data.length !== size || found.dims.join() !== dims.join()) return undefined;
    used.add(name);
    return found as Initializer & { data: Uint8Array };
  };
  const float = (name: string, dims: readonly number[]) => {
    const found = tensor(name, DATA_TYPE.float, dims);
    return found && floats(found.data);
  };

  const items = readItemTable(initializers, tensor);
  const wpe = initializers.get(POSITION_TABLE);
  if (!items || wpe?.dims.length !== 2) return undefined;
  const { rows: vocabulary, width } = items;
  const positions = wpe.dims[0]!;
  const headShape = initializers.get(HEAD_SHAPE);
  const [, , graphHeads, headWidth] = headShape?.dataType === DATA_TYPE.int64 && headShape.data?.length === 32 ? int64Values(headShape.data) : [];
  if (!(width > 0 && graphHeads === heads && headWidth !== undefined && heads * headWidth === width)) return undefined;

  const linear = (prefix: string, inputs: number, outputs: number): Linear | undefined => {
    const codes = tensor(int8Codes(`${prefix}.weight`), DATA_TYPE.int8, [inputs, outputs]);
    const scales = float(int8Scales(`${prefix}.weight`), [outputs]);
    const bias = float(`${prefix}.bias`, [outputs]);
    if (!codes || !scales || !bias) return undefined;
    const q = int8s(codes.data);
    const weight = new Float32Array(inputs * outputs);
    for (let i = 0; i < inputs; i++) for (let o = 0; o < outputs; o++) weight[i * outputs + o] = q[i * outputs + o]! * scales[o]!;
    return { inputs, outputs, weight, bias };
  };
  const layerNorm = (prefix: string): LayerNorm | undefined => {
    const weight = float(`${prefix}.weight`, [width]);
    const bias = float(`${prefix}.bias`, [width]);
    return weight && bias ? { weight, bias } : undefined;
  };

  const blocks: Block[] = [];
  for (let i = 0; initializers.has(`${blockPrefix(i)}.ln_1.weight`); i++) {
    const h = blockPrefix(i);
    const block = {
      ln1: layerNorm(`${h}.ln_1`),
      attention: linear(`${h}.attn.c_attn`, width, 3 * width),
      attentionOut: linear(`${h}.attn.c_proj`, width, width),
      ln2: layerNorm(`${h}.ln_2`),
      mlpIn: linear(`${h}.mlp.c_fc`, width, 4 * width),
      mlpOut: linear(`${h}.mlp.c_proj`, 4 * width, width),
    };
    if (!Object.values(block).every(Boolean)) return undefined;
    blocks.push(block as Block);
  }
  const positionTable = float(POSITION_TABLE, [positions, width]);
  const lnF = layerNorm(FINAL_NORM);
  if (blocks.length === 0 || !positionTable || !lnF) return undefined;

  // The heads are optional; present, each must have its shape.
  const optional = <T>(name: string, read: () => T | undefined): T | undefined | null => (initializers.has(name) ? (read() ?? null) : undefined);
  // The item bias as floats, or (the pq file) half floats the graph widens.
  const halfBias = float16Values(ITEM_BIAS);
  const itemBias = initializers.has(halfBias)
    ? (() => {
        const found = tensor(halfBias, DATA_TYPE.float16, [vocabulary]);
        return found ? fromFloat16Bits(new Uint16Array(new Uint8Array(found.data).buffer)) : null;
      })()
    : optional(ITEM_BIAS, () => float(ITEM_BIAS, [vocabulary]));
  const cosine = optional(COSINE_SCALE, () => float(COSINE_SCALE, []));
  const repeatWeight = optional(REPEAT_WEIGHT, () => float(REPEAT_WEIGHT, [width, 1]));
  const repeatBias = optional(REPEAT_BIAS, () => float(REPEAT_BIAS, [1]));
  if (itemBias === null || cosine === null || repeatWeight === null || repeatBias === null) return undefined;
  if ((repeatWeight === undefined) !== (repeatBias === undefined)) return undefined;

  // Nothing the engine would leave out: a graph with more weights computes something else.
  for (const name of initializers.keys()) if (!used.has(name) && !isConstant(name)) return undefined;
  // One epsilon for every LayerNormalization (the exporter writes the configuration's).
  const epsilons = new Set(graph.nodes.filter((node) => node.opType === 'LayerNormalization').map((node) => attributeFloat(node, 'epsilon')));
  const [epsilon] = epsilons;
  if (epsilons.size !== 1 || epsilon === undefined || epsilons.has(undefined)) return undefined;

  return {
    vocabulary,
    positions,
    width,
    heads,
    epsilon,
    items,
    wpe: positionTable,
    blocks,
    lnF,
    itemBias,
    cosineScale: cosine?.[0],
    repeat: repeatWeight && repeatBias ? { weight: repeatWeight, bias: repeatBias[0]! } : undefined,
  };
}
