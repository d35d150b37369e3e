/**
 * tf.gather(table, indices) along axis 0 as a TensorFlow.js wasm kernel of our own that copies
 * the rows within the wasm heap: the backend's GatherV2 took ~10x as long for a training step's
 * tables, and reading the table out to JavaScript (dataSync copies the whole table) and the
 * rows back in cost two copies and garbage per call.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const KERNEL = 'HunchGatherRows';

type KernelArgs = { inputs: { table: tf.TensorInfo; indices: tf.TensorInfo }; backend: BackendWasm };

function gatherRowsWasm({ inputs: { table, indices }, backend }: KernelArgs): tf.TensorInfo {
  const rows = table.shape[0]!;
  const width = tf.util.sizeFromShape(table.shape) / rows;
  const out = backend.makeOutput([indices.shape[0]!, ...table.shape.slice(1)], 'float32');
  // Views taken after the allocation: it may have grown (and replaced) the heap.
  const from = backend.typedArrayFromHeap(table) as Float32Array;
  const to = backend.typedArrayFromHeap(out) as Float32Array;
  const index = backend.typedArrayFromHeap(indices) as Int32Array;
  const heap = new Float32Array(to.buffer);
  const start = from.byteOffset / 4;
  let at = to.byteOffset / 4;
  for (let i = 0; i < index.length; i++, at += width) {
    const row = index[i]!;
    if (!(row >= 0 && row < rows)) throw new Error(`gatherRows: index ${row} is outside the table's ${rows} rows`);
    heap.copyWithin(at, start + row * width, start + row * width + width);
  }
  return out;
}

let registered = false;

/** Rows `indices` [N] (int32) of a float32 `table` [R, ...] on the wasm backend. */
export function gatherRowsWasmKernel(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  if (!registered) {
    tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: gatherRowsWasm as unknown as tf.KernelFunc });
    registered = true;
  }
  return tf.engine().runKernel(KERNEL, { table, indices }, {}) as tf.Tensor;
}
