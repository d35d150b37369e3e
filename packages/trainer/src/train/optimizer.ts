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

/** One AdamW update's settings: the learning rate, the clip scale and step t's bias corrections. */
export interface AdamWUpdate {
  lr: number;
  /** Multiplies every gradient (global-norm clipping; 1 when the norm is within the clip). */
  scale: number;
  c1: number;
  c2: number;
}

/** The state an AdamW update reads and writes, besides the parameters and gradients. */
export interface AdamWState {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly segments: readonly Segment[];
  readonly options: AdamWOptions;
}

/**
 * Applies `update` to the parameters in [from, to) of the flat array. Each element's update
 * depends on its own gradient and moments only, so ranges may be updated in any order, or in
 * parallel by threads sharing the arrays, with the same result as one pass.
 */
export function applyAdamW(state: AdamWState, params: Float32Array, grads: Float32Array, update: AdamWUpdate, from = 0, to = params.length): void {
  const { beta1, beta2, eps, weightDecay } = state.options;
  const { m, v } = state;
  const { lr, scale, c1, c2 } = update;
  const b1 = 1 - beta1;
  const b2 = 1 - beta2;
  for (const { offset, size, decay } of state.segments) {
    const keep = decay ? 1 - lr * weightDecay : 1;
    const end = Math.min(offset + size, to);
    for (let i = Math.max(offset, from); i < end; i++) {
      const g = grads[i]! * scale;
      // The moments in double precision until stored, as in one expression.
      const mi = beta1 * m[i]! + b1 * g;
      const vi = beta2 * v[i]! + b2 * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i]! * keep - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
    }
  }
}

/**
 * AdamW (decoupled weight decay, as in PyTorch / nanoGPT) with bias correction and
 * global-norm gradient clipping. State is two arrays the size of the parameters and
 * the step count: all of it goes into a run's saved state (run-state.ts). `shared`: the
 * moments live in SharedArrayBuffers, so worker threads can apply parts of an update.
 */
export class FlatAdamW implements AdamWState {
  readonly m: Float32Array;
  readonly v: Float32Array;
  t = 0;

  constructor(
    readonly size: number,
    readonly segments: readonly Segment[],
    readonly options: AdamWOptions,
    shared = false,
  ) {
    const buffer = () => (shared ? new SharedArrayBuffer(size * 4) : new ArrayBuffer(size * 4));
    this.m = new Float32Array(buffer());
    this.v = new Float32Array(buffer());
  }

  /**
   * Starts step t + 1: the gradient's global norm (before clipping) and the update to apply.
   * `squares`: Σ g² when the caller has it (next-item/loss.ts sums the touched rows only).
   */
  begin(grads: Float32Array, lr: number, squares?: number): { norm: number; update: AdamWUpdate } {
    const { beta1, beta2, clip } = this.options;
    let sq = 0;
    if (squares === undefined) for (let i = 0; i < grads.length; i++) sq += grads[i]! * grads[i]!;
    const norm = Math.sqrt(squares ?? sq);
    this.t++;
    return { norm, update: { lr, scale: clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1, c1: 1 / (1 - beta1 ** this.t), c2: 1 / (1 - beta2 ** this.t) } };
  }

  /** Updates `params` in place from `grads`; returns the gradient norm before clipping. */
  step(params: Float32Array, grads: Float32Array, lr: number): number {
    const { norm, update } = this.begin(grads, lr);
    applyAdamW(this, params, grads, update);
    return norm;
  }
}
