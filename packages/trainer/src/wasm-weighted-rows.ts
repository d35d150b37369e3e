/**
 * out[to[m]] += weight[m] · source[from[m]] for every pair m, into `rows` zero rows: a sparse
 * matrix (pairs as coordinates) times a dense one, as a TensorFlow.js wasm kernel of our own
 * that works within the wasm heap. The distillation term needs it at each position, the
 * teacher's soft items' vectors summed by their weights: a distilled step costs 1.15x a plain
 * one's CPU this way, 1.31x as a dense product a row through the backend's scalar batched
 * matmul (BENCHMARKS.md, "distillation's weight, and a cheaper distilled step").
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const KERNEL = 'HunchWeightedRows';

type KernelArgs = {
  inputs: { source: tf.TensorInfo; from: tf.TensorInfo; to: tf.TensorInfo; weight: tf.TensorInfo };
  attrs: { rows: number };
  backend: BackendWasm;
};

function weightedRowsWasm({ inputs: { source, from, to, weight }, attrs: { rows }, backend }: KernelArgs): tf.TensorInfo {
  const sourceRows = source.shape[0]!;
  const width = source.shape[1]!;
  const out = backend.makeOutput([rows, width], 'float32');
  // Views taken after the allocation: it may have grown (and replaced) the heap.
  const src = backend.typedArrayFromHeap(source) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const fromRows = backend.typedArrayFromHeap(from) as Int32Array;
  const toRows = backend.typedArrayFromHeap(to) as Int32Array;
  const w = backend.typedArrayFromHeap(weight) as Float32Array;
  dst.fill(0);
  for (let m = 0; m < fromRows.length; m++) {
    const f = fromRows[m]!;
    const t = toRows[m]!;
    if (!(f >= 0 && f < sourceRows && t >= 0 && t < rows)) throw new Error(`weightedRows: pair ${m} (${f} -> ${t}) is outside ${sourceRows} source or ${rows} output rows`);
    const p = w[m]!;
    const a = f * width;
    const b = t * width;
    for (let d = 0; d < width; d++) dst[b + d] = dst[b + d]! + p * src[a + d]!;
  }
  return out;
}

let registered = false;

/** The kernel above, on the wasm backend; elsewhere the same sum by the backend's ops. */
function weightedRowsValue(source: tf.Tensor, from: tf.Tensor, to: tf.Tensor, weight: tf.Tensor, rows: number): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') return tf.unsortedSegmentSum(tf.gather(source, from).mul(weight.reshape([-1, 1])), to as tf.Tensor1D, rows) as tf.Tensor2D;
  if (!registered) {
    tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: weightedRowsWasm as unknown as tf.KernelFunc });
    registered = true;
  }
  return tf.engine().runKernel(KERNEL, { source, from, to, weight }, { rows } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * [rows, D]: row r is Σ weight[m] · source[from[m]] over the pairs with to[m] = r. Its gradient
 * flows to `source` (the same sum with from and to swapped); `from`, `to` and `weight` are constants.
 */
export function weightedRows(source: tf.Tensor2D, from: tf.Tensor1D, to: tf.Tensor1D, weight: tf.Tensor1D, rows: number): tf.Tensor2D {
  if (from.size !== to.size || from.size !== weight.size) throw new Error(`weightedRows: ${from.size} sources, ${to.size} destinations and ${weight.size} weights`);
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [s, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([]);
    return {
      value: weightedRowsValue(s, from, to, weight, rows),
      gradFunc: (dy: tf.Tensor) => [weightedRowsValue(dy, to, from, weight, s.shape[0]!)],
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(source) as tf.Tensor2D;
}
