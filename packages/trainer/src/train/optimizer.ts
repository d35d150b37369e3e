/**
 * The optimiser, in plain JavaScript over one flat Float32Array of parameters
 * (next-item/param-layout.ts), so the main thread owns the weights while workers compute
 * gradients: linear warmup + cosine decay, global-norm clipping, AdamW.
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

  /** Updates `params` in place from `grads`; returns the gradient norm before clipping. */
  step(params: Float32Array, grads: Float32Array, lr: number): number {
    const { beta1, beta2, eps, weightDecay, clip } = this.options;
    let sq = 0;
    for (let i = 0; i < grads.length; i++) sq += grads[i]! * grads[i]!;
    const norm = Math.sqrt(sq);
    const scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1;
    this.t++;
    const c1 = 1 / (1 - beta1 ** this.t);
    const c2 = 1 / (1 - beta2 ** this.t);
    const { m, v } = this;
    for (const { offset, size, decay } of this.segments) {
      const keep = decay ? 1 - lr * weightDecay : 1;
      for (let i = offset, end = offset + size; i < end; i++) {
        const g = grads[i]! * scale;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
        params[i] = params[i]! * keep - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
      }
    }
    return norm;
  }
}
