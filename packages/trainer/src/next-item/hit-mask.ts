/**
 * The accidental hits of the shared negatives (loss.ts: a negative equal to the target or to
 * an item of the prefix), masked from a sparse list of their flat indices into the [N, K]
 * logits instead of by adding a dense [N, K] mask: a few thousand hits against 2M logits.
 *
 * On the wasm backend a kernel of our own copies the logits within the wasm heap and adds
 * `value` at the hits; elsewhere a ScatterNd of the hits is added. Either way each hit gets
 * `x + value` and every other logit stays `x`, as adding the dense mask gave.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const KERNEL = 'HunchMaskHits';

type KernelArgs = { inputs: { x: tf.TensorInfo; hits: tf.TensorInfo }; attrs: { value: number }; backend: BackendWasm };

function maskHitsWasm({ inputs: { x, hits }, attrs: { value }, backend }: KernelArgs): tf.TensorInfo {
  const out = backend.makeOutput(x.shape, 'float32');
  // Views taken after the allocation: it may have grown (and replaced) the heap.
  const from = backend.typedArrayFromHeap(x) as Float32Array;
  const to = backend.typedArrayFromHeap(out) as Float32Array;
  const start = from.byteOffset / 4;
  new Float32Array(to.buffer).copyWithin(to.byteOffset / 4, start, start + from.length);
  const at = backend.typedArrayFromHeap(hits) as Int32Array;
  for (let i = 0; i < at.length; i++) {
    const j = at[i]!;
    if (!(j >= 0 && j < to.length)) throw new Error(`maskHits: hit ${j} is outside the ${to.length} logits`);
    to[j] = to[j]! + value;
  }
  return out;
}

let registered = false;

/** `x` with `value` added at the flat indices `hits` (int32, no index twice). */
export function maskHits(x: tf.Tensor2D, hits: tf.Tensor1D, value = -1e9): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') {
    return x.add(tf.scatterND(hits.reshape([-1, 1]), tf.fill([hits.size], value), [x.size]).reshape(x.shape));
  }
  if (!registered) {
    tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: maskHitsWasm as unknown as tf.KernelFunc });
    registered = true;
  }
  return tf.engine().runKernel(KERNEL, { x, hits }, { value } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
