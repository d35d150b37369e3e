/**
 * The softmax cross-entropy of the next-item loss (loss.ts) as one custom-gradient op,
 * written for the tfjs wasm backend's costs: tf.logSumExp and tf.exp are slow there on
 * [N, K] while the fused tf.softmax and tf.max are fast, and concatenating big logit
 * blocks is slow; so the candidates come in two blocks and the big block only meets
 * softmax, max and one multiply.
 *
 * For row n, the candidates are `shared[n, :]` (K shared negatives, -1e9 added at the flat
 * indices `sharedHits`, hit-mask.ts) and `extra[n, :]` (a few per-row candidates; column 0
 * is the target):
 *   loss = Σ_n weight[n] * (logsumexp(shared[n] + mask[n], extra[n]) - extra[n, 0])
 * Gradients: softmax over all candidates minus one-hot(target), times weight[n].
 * With `logZWeight` (distillation's α Σ p at each row, loss.ts), the loss adds
 * Σ_n logZWeight[n] * logsumexp(...): the softmax's gradient is then weighted by their sum.
 */
import * as tf from '@tensorflow/tfjs';
import { maskHits } from './hit-mask.js';

/** log Σ exp over the last axis of [N, K], via softmax: Σ exp(x - max) = 1 / max(softmax(x)). */
function logSumExpBySoftmax(x: tf.Tensor2D): { lse: tf.Tensor; probs: tf.Tensor } {
  const probs = tf.softmax(x);
  const lse = tf.max(x, 1, true).sub(tf.log(tf.max(probs, 1, true)));
  return { lse, probs };
}

export function sampledSoftmaxLoss(shared: tf.Tensor2D, extra: tf.Tensor2D, sharedHits: tf.Tensor1D | undefined, weight: tf.Tensor1D, logZWeight?: tf.Tensor1D): tf.Scalar {
  const [N, E] = extra.shape;
  const w = weight.reshape([N, 1]);
  // The weight on log Z: the target's, plus distillation's where given.
  const wz = logZWeight ? w.add(logZWeight.reshape([N, 1])) : w;
  const onehot = tf.tensor2d([1, ...new Array<number>(E - 1).fill(0)], [1, E]);
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [s, x, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const masked = sharedHits ? maskHits(s, sharedHits) : s;
    const a = logSumExpBySoftmax(masked);
    const b = tf.logSumExp(x, 1, true); // small: [N, E]
    const top = tf.maximum(a.lse, b);
    const lse = top.add(tf.log(tf.exp(a.lse.sub(top)).add(tf.exp(b.sub(top))))); // [N, 1]
    const target = x.slice([0, 0], [N, 1]);
    const value = (logZWeight ? lse.mul(wz).sub(target.mul(w)).sum() : lse.sub(target).mul(w).sum()) as tf.Scalar;
    save(logZWeight ? [a.probs, a.lse, b, lse, x, w, onehot, wz] : [a.probs, a.lse, b, lse, x, w, onehot]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [probs, lseA, , lseAll, xs, ws, first, wzs] = saved as tf.Tensor[] as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const scale = ws.mul(dy); // [N, 1]
        if (!logZWeight) {
          const dShared = probs.mul(tf.exp(lseA.sub(lseAll)).mul(scale));
          const dExtra = tf.exp(xs.sub(lseAll)).sub(first).mul(scale);
          return [dShared, dExtra];
        }
        const scaleZ = wzs.mul(dy);
        const dShared = probs.mul(tf.exp(lseA.sub(lseAll)).mul(scaleZ));
        const dExtra = tf.exp(xs.sub(lseAll)).mul(scaleZ).sub(first.mul(scale));
        return [dShared, dExtra];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(shared, extra) as tf.Scalar;
}
