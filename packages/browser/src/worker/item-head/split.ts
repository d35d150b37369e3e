/**
 * Cuts the item head off an int8 model, so that the worker scores items itself (scorer.ts).
 *
 * A Hunch export's logits are a tied int8 head over the final hidden state q (gpt2.ts heads()):
 *
 *   logits = MatMul(q, Transpose(Cast(table int8 [V, D]) * scales [V, 1])) (+ bias [V])
 *
 * onnxruntime-web runs that as an fp32 MatMul over a [D, V] copy of the table it folds when
 * the session is created: for 43k items, 2.7M multiply-adds over 11 MB on every event, about
 * two thirds of a one-token step. Reading the int8 table directly is 4x less memory to stream.
 * The body keeps everything else (the embedding, the blocks, the cache and repeat outputs) and
 * returns q instead of the logits. Any other graph is left alone: undefined.
 */
// The output the trainer's graph computes the logits into (core's model contract).
import { LOGITS_OUTPUT as LOGITS } from '@hunch/core';
import { DATA_TYPE, GRAPH, MODEL, VALUE_INFO, attributeInts, floats, int8s, readModelGraph, type GraphNode, type Initializer } from '../onnx/model-proto.js';
import { MessageWriter, fields, text, type Field } from '../onnx/protobuf.js';

/** onnx.proto's field numbers for the query output this writes. */
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIMENSION = { value: 1, param: 2 };

export interface Int8ItemHead {
  /** The graph tensor the head reads, [batch, kept, width]: what the body returns instead of the logits. */
  query: string;
  /** Vocabulary size (the table's rows) and hidden width. */
  rows: number;
  width: number;
  /** [rows, width] int8 codes, row-major. */
  table: Int8Array;
  /** One scale per row: row r is table[r] * scales[r]. */
  scales: Float32Array;
  /** Added to the logits, when the graph has a bias. */
  bias: Float32Array | undefined;
}

export interface SplitModel {
  /** The model without its head: serialised ONNX. */
  body: Uint8Array;
  head: Int8ItemHead;
}

const valueName = (field: Field) => {
  const name = fields(field.bytes).find((part) => part.number === VALUE_INFO.name);
  return name ? text(name) : '';
};

const sameInts = (a: readonly number[] | undefined, b: readonly number[]) => a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

/** The tied int8 head feeding `logits`, when the graph has exactly that (see the file comment). */
function findHead(producer: ReadonlyMap<string, GraphNode>, initializers: ReadonlyMap<string, Initializer>): Int8ItemHead | undefined {
  const standard = (name: string | undefined, opType: string, inputs: number) => {
    const node = name === undefined ? undefined : producer.get(name);
    return node && node.opType === opType && node.domain === '' && node.inputs.length === inputs ? node : undefined;
  };
  const initializer = (name: string | undefined, dataType: number) => {
    const found = name === undefined ? undefined : initializers.get(name);
    return found?.dataType === dataType && found.data ? (found as Initializer & { data: Uint8Array }) : undefined;
  };

  const output = producer.get(LOGITS);
  if (!output || output.outputs.length !== 1) return undefined;
  let matmulName: string | undefined;
  let bias: (Initializer & { data: Uint8Array }) | undefined;
  if (standard(LOGITS, 'Identity', 1)) matmulName = output.inputs[0];
  else if (standard(LOGITS, 'Add', 2)) {
    // MatMul + bias, either way round.
    const [a, b] = output.inputs;
    bias = initializer(b, DATA_TYPE.float);
    matmulName = a;
    if (!bias) [bias, matmulName] = [initializer(a, DATA_TYPE.float), b];
    if (!bias) return undefined;
  } else return undefined;
  const matmul = standard(matmulName, 'MatMul', 2);
  const transpose = standard(matmul?.inputs[1], 'Transpose', 1);
  if (!matmul || !transpose || !sameInts(attributeInts(transpose, 'perm', true), [1, 0])) return undefined;
  const dequantize = standard(transpose.inputs[0], 'Mul', 2);
  const cast = standard(dequantize?.inputs[0], 'Cast', 1);
  if (!dequantize || !cast || !sameInts(attributeInts(cast, 'to', false), [DATA_TYPE.float])) return undefined;
  const table = initializer(cast.inputs[0], DATA_TYPE.int8);
  const scales = initializer(dequantize.inputs[1], DATA_TYPE.float);
  if (!table || !scales || table.dims.length !== 2) return undefined;
  const [rows, width] = table.dims as [number, number];
  const scalesShape = scales.dims.length === 2 ? sameInts(scales.dims, [rows, 1]) : sameInts(scales.dims, [rows]);
  if (!scalesShape || table.data.length !== rows * width || scales.data.length !== rows * 4) return undefined;
  if (bias && (!sameInts(bias.dims, [rows]) || bias.data.length !== rows * 4)) return undefined;
  return {
    query: matmul.inputs[0]!,
    rows,
    width,
    table: int8s(table.data),
    scales: floats(scales.data),
    bias: bias ? floats(bias.data) : undefined,
  };
}

/** A float tensor output [batch_size, logits_sequence_length, width]: the query's ValueInfoProto. */
export function queryOutput(name: string, width: number): Uint8Array {
  const dim = (write: (d: MessageWriter) => MessageWriter) => write(new MessageWriter()).finish();
  const shape = new MessageWriter()
    .bytes(SHAPE.dim, dim((d) => d.string(DIMENSION.param, 'batch_size')))
    .bytes(SHAPE.dim, dim((d) => d.string(DIMENSION.param, 'logits_sequence_length')))
    .bytes(SHAPE.dim, dim((d) => d.varint(DIMENSION.value, width)))
    .finish();
  const tensorType = new MessageWriter().varint(TENSOR_TYPE.elemType, DATA_TYPE.float).bytes(TENSOR_TYPE.shape, shape).finish();
  const type = new MessageWriter().bytes(TYPE.tensorType, tensorType).finish();
  return new MessageWriter().string(VALUE_INFO.name, name).bytes(VALUE_INFO.type, type).finish();
}

/**
 * The model without its item head, and the head's weights; undefined when `model`'s logits
 * are not a tied int8 head (fp32 and q4 exports, other producers' graphs).
 */
export function splitItemHead(model: Uint8Array): SplitModel | undefined {
  const read = readModelGraph(model);
  if (!read) return undefined;
  const { modelFields, graphFields, nodeOf, initializerOf, initializers } = read;
  const producer = new Map<string, GraphNode>();
  for (const node of nodeOf.values()) for (const output of node.outputs) producer.set(output, node);
  const head = findHead(producer, initializers);
  if (!head) return undefined;

  // The nodes the remaining outputs need, walking back from them: the head's drop out.
  const outputs = graphFields.filter((field) => field.number === GRAPH.output).map(valueName).filter((name) => name !== LOGITS);
  const kept = new Set<GraphNode>();
  const wanted = [...outputs, head.query];
  for (let name = wanted.pop(); name !== undefined; name = wanted.pop()) {
    const node = producer.get(name);
    if (!node || kept.has(node)) continue;
    kept.add(node);
    wanted.push(...node.inputs.filter(Boolean));
  }
  const used = new Set([...kept].flatMap((node) => node.inputs));
  const produced = new Set([...kept].flatMap((node) => node.outputs));

  const graph = new MessageWriter();
  for (const field of graphFields) {
    if (field.number === GRAPH.node) {
      if (!kept.has(nodeOf.get(field)!)) continue;
    } else if (field.number === GRAPH.initializer) {
      if (!used.has(initializerOf.get(field)![0])) continue;
    } else if (field.number === GRAPH.output) {
      if (valueName(field) === LOGITS) continue;
    } else if (field.number === GRAPH.valueInfo) {
      if (!produced.has(valueName(field))) continue;
    }
    graph.raw(field.raw);
  }
  graph.bytes(GRAPH.output, queryOutput(head.query, head.width));

  const body = new MessageWriter();
  for (const field of modelFields) {
    if (field.number === MODEL.graph) body.bytes(MODEL.graph, graph.finish());
    else body.raw(field.raw);
  }
  return { body: body.finish(), head };
}
