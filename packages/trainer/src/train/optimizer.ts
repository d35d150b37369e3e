/**
 * The optimiser, in plain JavaScript over one flat Float32Array of parameters
 * (next-item/param-layout.ts), so the main thread owns the weights while workers compute
 * gradients: linear warmup + cosine decay, global-norm clipping, AdamW, lazy on item tables.
 */

/** Linear warmup over `warmup` steps, then cosine decay from `peak` to `peak * minRatio` at `total`. */
export function warmupCosine(step: number, total: number, peak: number, warmup: number, minRatio = 0.1): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** A contiguous run of the flat parameter array and whether weight decay applies to it. */
export interface Segment {
  offset: number;
  size: number;
  decay: boolean;
  /**
   * A table of rows this long (the item embeddings, the item biases) whose rows a step
   * updates only where its gradient touches them (lazy Adam, see FlatAdamW.step). Absent: dense.
   */
  rowSize?: number;
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip (0 = none). */
  clip: number;
}

/**
 * AdamW (decoupled weight decay, as in PyTorch / nanoGPT) with bias correction and
 * global-norm gradient clipping. State is two arrays the size of the parameters and
 * the step count: all of it goes into a run's saved state (run-state.ts).
 *
 * Row tables (Segment.rowSize) are lazy when the step names the rows it touched, as
 * TensorFlow's LazyAdam and PyTorch's SparseAdam: a touched row gets exactly the dense
 * update (same arithmetic, same bias correction by the global step); an untouched row keeps
 * its moments and gets no Adam move (dense Adam would decay its moments and keep moving it
 * by its momentum), but its weight decay is applied every step, as dense AdamW does. A
 * row's gradient outside the touched rows is never read. Without touched rows, every
 * segment is dense.
 */
export class FlatAdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  t = 0;

  constructor(
    readonly size: number,
    readonly segments: readonly Segment[],
    readonly options: AdamWOptions,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /**
   * Updates `params` in place from `grads`; returns the gradient norm before clipping.
   * `touched`: the row ids (ascending, distinct) the gradient of the row tables covers.
   */
  step(params: Float32Array, grads: Float32Array, lr: number, touched?: Int32Array): number {
    const { beta1, beta2, eps, weightDecay, clip } = this.options;
    const lazy = (segment: Segment) => touched !== undefined && segment.rowSize !== undefined;
    // The norm adds the same non-zero terms in the same order as over every element.
    let sq = 0;
    for (const segment of this.segments) {
      if (lazy(segment)) {
        const width = segment.rowSize!;
        for (const row of touched!) {
          for (let i = segment.offset + row * width, end = i + width; i < end; i++) sq += grads[i]! * grads[i]!;
        }
      } else {
        for (let i = segment.offset, end = segment.offset + segment.size; i < end; i++) sq += grads[i]! * grads[i]!;
      }
    }
    const norm = Math.sqrt(sq);
    const scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1;
    this.t++;
    const c1 = 1 / (1 - beta1 ** this.t);
    const c2 = 1 / (1 - beta2 ** this.t);
    const { m, v } = this;
    const update = (from: number, to: number, keep: number) => {
      for (let i = from; i < to; i++) {
        const g = grads[i]! * scale;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
        params[i] = params[i]! * keep - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
      }
    };
    for (const segment of this.segments) {
      const { offset, size, decay } = segment;
      const keep = decay ? 1 - lr * weightDecay : 1;
      if (!lazy(segment)) {
        update(offset, offset + size, keep);
        continue;
      }
      const width = segment.rowSize!;
      if (!decay) {
        for (const row of touched!) update(offset + row * width, offset + (row + 1) * width, keep);
        continue;
      }
      // Walk every row: touched ones get Adam, the others their weight decay only.
      let next = 0;
      for (let row = 0, rows = size / width; row < rows; row++) {
        const from = offset + row * width;
        if (next < touched!.length && touched![next] === row) {
          update(from, from + width, keep);
          next++;
        } else {
          for (let i = from; i < from + width; i++) params[i] = params[i]! * keep;
        }
      }
    }
    return norm;
  }
}
