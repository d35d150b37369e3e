/**
 * A small ONNX graph builder over onnx-proto: nodes with made-up readable output names,
 * initializers as raw little-endian bytes, and the ModelProto wrapper.
 */
import { MODEL_PRODUCER, MODEL_PRODUCER_VERSION } from '@hunch/core';
import onnxProto, { type onnx as Onnx } from 'onnx-proto';

export const { onnx } = onnxProto;
export const DataType = onnx.TensorProto.DataType;

/** opset 17: LayerNormalization needs it. */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** ONNX Runtime's contrib domain (MatMulNBits). */
export const MS_DOMAIN = 'com.microsoft';

export type Attribute = number | number[] | { float: number };

/** Collects nodes and initializers; every value gets a fresh readable name. */
export class GraphBuilder {
  readonly nodes: Onnx.INodeProto[] = [];
  readonly initializers: Onnx.ITensorProto[] = [];
  private readonly initializerNames = new Set<string>();
  private count = 0;

  /** Adds a node; `outputs` is a count (names are made up) or the output names. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs: number | string[] = 1, domain = ''): string[] {
    const names =
      typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `/${opType}_${this.count}${outputs > 1 ? `_${i}` : ''}`) : outputs;
    this.nodes.push({
      name: `${opType}_${this.count++}`,
      opType,
      ...(domain ? { domain } : {}),
      input: inputs,
      output: names,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return names;
  }

  /** Shorthand for single-output ops. */
  one(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, domain = ''): string {
    return this.op(opType, inputs, attributes, 1, domain)[0]!;
  }

  /** An initializer (added once: a second call with the same name returns the name). */
  tensor(name: string, dataType: number, dims: number[], bytes: Uint8Array): string {
    if (!this.initializerNames.has(name)) {
      this.initializerNames.add(name);
      this.initializers.push({ name, dims, dataType, rawData: bytes });
    }
    return name;
  }

  float(name: string, dims: number[], data: Float32Array): string {
    return this.tensor(name, DataType.FLOAT, dims, bytesOf(data));
  }

  int64(name: string, dims: number[], values: number[]): string {
    return this.tensor(name, DataType.INT64, dims, bytesOf(BigInt64Array.from(values.map(BigInt))));
  }

  scalar(name: string, value: number): string {
    return this.float(name, [], Float32Array.of(value));
  }
}

function attribute(name: string, value: Attribute): Onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
  if (typeof value === 'object') return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value.float };
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/** Raw little-endian bytes (ONNX raw_data is little-endian; so is every platform Node runs on). */
export function bytesOf(array: Float32Array | BigInt64Array | Int8Array | Uint8Array | Uint16Array): Uint8Array {
  return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
}

export function valueInfo(name: string, elemType: number, dims: Array<string | number>): Onnx.IValueInfoProto {
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

export interface GraphSpec {
  name: string;
  inputs: Onnx.IValueInfoProto[];
  outputs: Onnx.IValueInfoProto[];
  /** Whether a com.microsoft op is used (adds that opset import). */
  contrib: boolean;
  docString?: string;
}

/** The serialised ModelProto. */
export function encodeModel(g: GraphBuilder, spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }, ...(spec.contrib ? [{ domain: MS_DOMAIN, version: 1 }] : [])],
    // Who wrote the graph, and which version of it: the browser's own GPT-2 reads only graphs it was checked against.
    producerName: MODEL_PRODUCER,
    producerVersion: MODEL_PRODUCER_VERSION,
    ...(spec.docString ? { docString: spec.docString } : {}),
    graph: { name: spec.name, node: g.nodes, initializer: g.initializers, input: spec.inputs, output: spec.outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}
