/**
 * The parts of onnx.proto the worker reads: a model's graph, its nodes and its initializers
 * (field numbers from onnx.proto; see protobuf.ts for the wire format).
 */
import { fields, int64s, text, type Field } from './protobuf.js';

export const MODEL = { producerName: 2, producerVersion: 3, graph: 7 };
export const GRAPH = { node: 1, initializer: 5, output: 12, valueInfo: 13 };
const NODE = { input: 1, output: 2, opType: 4, attribute: 5, domain: 7 };
const ATTRIBUTE = { name: 1, f: 2, i: 3, ints: 8 };
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 };
export const VALUE_INFO = { name: 1, type: 2 };
export const DATA_TYPE = { float: 1, uint8: 2, int8: 3, int64: 7, float16: 10 };

export interface GraphNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Field[]>;
}

export interface Initializer {
  dims: number[];
  dataType: number;
  /** raw_data (the exporters used here write every tensor that way). */
  data: Uint8Array | undefined;
}

export function readNode(field: Field): GraphNode {
  const parts = fields(field.bytes);
  const strings = (number: number) => parts.filter((part) => part.number === number).map(text);
  const attributes = new Map<string, Field[]>();
  for (const part of parts) {
    if (part.number !== NODE.attribute) continue;
    const attribute = fields(part.bytes);
    const name = attribute.find((a) => a.number === ATTRIBUTE.name);
    if (name) attributes.set(text(name), attribute);
  }
  return { opType: strings(NODE.opType)[0] ?? '', domain: strings(NODE.domain)[0] ?? '', inputs: strings(NODE.input), outputs: strings(NODE.output), attributes };
}

export function readInitializer(field: Field): [string, Initializer] {
  const parts = fields(field.bytes);
  const name = parts.find((part) => part.number === TENSOR.name);
  return [
    name ? text(name) : '',
    {
      dims: int64s(parts, TENSOR.dims),
      dataType: parts.find((part) => part.number === TENSOR.dataType)?.value ?? 0,
      data: parts.find((part) => part.number === TENSOR.rawData)?.bytes,
    },
  ];
}

/** An int attribute, or ints (`many`). */
export function attributeInts(node: GraphNode, name: string, many: boolean): number[] | undefined {
  const attribute = node.attributes.get(name);
  if (!attribute) return undefined;
  return many ? int64s(attribute, ATTRIBUTE.ints) : attribute.filter((a) => a.number === ATTRIBUTE.i).map((a) => a.value);
}

/** A float attribute's value. */
export function attributeFloat(node: GraphNode, name: string): number | undefined {
  const f = node.attributes.get(name)?.find((a) => a.number === ATTRIBUTE.f && a.bytes.length === 4);
  return f && new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/** A little-endian float32 initializer's values, copied (raw_data need not be 4-byte aligned). */
export const floats = (data: Uint8Array): Float32Array => new Float32Array(new Uint8Array(data).buffer);

/** A little-endian int64 initializer's values as numbers (shapes and indices: far below 2^53), copied. */
export const int64Values = (data: Uint8Array): number[] => Array.from(new BigInt64Array(new Uint8Array(data).buffer), Number);

/** An int8 initializer's values, a view on the model's bytes. */
export const int8s = (data: Uint8Array): Int8Array => new Int8Array(data.buffer, data.byteOffset, data.length);

export interface ModelGraph {
  /** The model's fields, in order (what a rewrite copies). */
  modelFields: Field[];
  producerName: string;
  producerVersion: string;
  /** The graph's fields, in order. */
  graphFields: Field[];
  nodes: GraphNode[];
  /** Each node by the field it was read from. */
  nodeOf: Map<Field, GraphNode>;
  /** Each initializer, and its name, by the field it was read from. */
  initializerOf: Map<Field, [string, Initializer]>;
  initializers: Map<string, Initializer>;
}

/** The model's graph, read; undefined when the bytes hold no graph. Throws on bytes that are not protobuf. */
export function readModelGraph(model: Uint8Array): ModelGraph | undefined {
  const modelFields = fields(model);
  const graphField = modelFields.find((field) => field.number === MODEL.graph);
  if (!graphField) return undefined;
  const producer = modelFields.find((field) => field.number === MODEL.producerName);
  const version = modelFields.find((field) => field.number === MODEL.producerVersion);
  const graphFields = fields(graphField.bytes);
  const nodeOf = new Map(graphFields.filter((field) => field.number === GRAPH.node).map((field) => [field, readNode(field)]));
  const initializerOf = new Map(graphFields.filter((field) => field.number === GRAPH.initializer).map((field) => [field, readInitializer(field)]));
  return {
    modelFields,
    producerName: producer ? text(producer) : '',
    producerVersion: version ? text(version) : '',
    graphFields,
    nodes: [...nodeOf.values()],
    nodeOf,
    initializerOf,
    initializers: new Map(initializerOf.values()),
  };
}
