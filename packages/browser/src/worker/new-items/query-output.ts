/**
 * The graph with its item head's query as one more output, for the runs where onnxruntime
 * computes the logits itself (fp32 and q4 files, WebGPU): the worker then scores new products
 * (compose.ts) from the same query the graph's head used. The head is what feeds `logits`:
 * MatMul (fp32, int8) or MatMulNBits (q4) of the query, possibly through an Add of the item bias
 * or an Identity; the query is that MatMul's first input.
 */
import { LOGITS_OUTPUT } from '@hunch/core';
import { GRAPH, MODEL, readModelGraph, type GraphNode } from '../onnx/model-proto.js';
import { MessageWriter } from '../onnx/protobuf.js';
import { queryOutput } from '../item-head/split.js';

/** The query tensor's name, or undefined when the logits are not such a head. */
function headQuery(nodes: readonly GraphNode[]): string | undefined {
  const producer = new Map<string, GraphNode>();
  for (const node of nodes) for (const output of node.outputs) producer.set(output, node);
  let node = producer.get(LOGITS_OUTPUT);
  for (let hops = 0; node && hops < 3; hops++) {
    if (node.opType === 'MatMul' || node.opType === 'MatMulNBits') return node.inputs[0];
    if (node.opType !== 'Identity' && node.opType !== 'Add') return undefined;
    // Add: the input that is computed (the bias is an initializer, produced by no node).
    node = node.inputs.map((input) => producer.get(input)).find(Boolean);
  }
  return undefined;
}

/** `model` with the head's query also output (width floats per position), and its name; undefined when no head is found. */
export function withQueryOutput(model: Uint8Array, width: number): { body: Uint8Array; query: string } | undefined {
  const read = readModelGraph(model);
  const query = read && headQuery(read.nodes);
  if (!read || !query) return undefined;
  const graph = new MessageWriter();
  for (const field of read.graphFields) graph.raw(field.raw);
  graph.bytes(GRAPH.output, queryOutput(query, width));
  const body = new MessageWriter();
  for (const field of read.modelFields) {
    if (field.number === MODEL.graph) body.bytes(MODEL.graph, graph.finish());
    else body.raw(field.raw);
  }
  return { body: body.finish(), query };
}
