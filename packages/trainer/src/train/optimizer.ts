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
  /**
   * A table of rows this long (the item embeddings, the item biases) whose untouched rows a
   * step may update apart, before the gradient is in (FlatAdamW.stepUntouched). Absent: dense.
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
 * Row tables (Segment.rowSize: the item embeddings and biases) may be updated in two parts:
 * stepUntouched() first does the rows the step's gradient does not touch (their gradient is
 * zero, so their update needs none, and the trainer runs it while the workers compute), then
 * step() the dense segments and the touched rows. Together they are exactly the dense update:
 * the same arithmetic on every element, the same gradient norm.
 */
export class FlatAdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  t = 0;
  /** The touched rows stepUntouched() left to step(). */
  private pending: Int32Array | undefined;

  constructor(
    readonly size: number,
    readonly segments: readonly Segment[],
    readonly options: AdamWOptions,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** Elements [from, to) by AdamW, gradient `grads[i] * scale` (absent: zero). */
  private update(params: Float32Array, grads: Float32Array | undefined, scale: number, from: number, to: number, lr: number, keep: number, t: number): void {
    const { beta1, beta2, eps } = this.options;
    const c1 = 1 / (1 - beta1 ** t);
    const c2 = 1 / (1 - beta2 ** t);
    const { m, v } = this;
    for (let i = from; i < to; i++) {
      const g = grads ? grads[i]! * scale : 0;
      const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
      params[i] = params[i]! * keep - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
    }
  }

  /** Calls `each(from, to)` for the element ranges of a row table's rows in (or out of) `rows`, ascending, distinct. */
  private static rowRanges(segment: Segment, rows: Int32Array, inRows: boolean, each: (from: number, to: number) => void): void {
    const width = segment.rowSize!;
    if (inRows) {
      for (const row of rows) each(segment.offset + row * width, segment.offset + (row + 1) * width);
      return;
    }
    let start = 0;
    for (const row of [...rows, segment.size / width]) {
      if (row > start) each(segment.offset + start * width, segment.offset + row * width);
      start = row + 1;
    }
  }

  /**
   * The next step's update of the row-table rows outside `touched` (ascending, distinct): zero
   * gradient. step() must follow with the same `lr` and `touched`; until then, only the touched
   * rows and the dense segments hold the previous step's values.
   */
  stepUntouched(params: Float32Array, lr: number, touched: Int32Array): void {
    const keepOf = (segment: Segment) => (segment.decay ? 1 - lr * this.options.weightDecay : 1);
    for (const segment of this.segments) {
      if (segment.rowSize === undefined) continue;
      FlatAdamW.rowRanges(segment, touched, false, (from, to) => this.update(params, undefined, 1, from, to, lr, keepOf(segment), this.t + 1));
    }
    this.pending = touched;
  }

  /**
   * Updates `params` in place from `grads`; returns the gradient norm before clipping. After
   * stepUntouched(), `touched` must be the same rows: only they and the dense segments are read.
   */
  step(params: Float32Array, grads: Float32Array, lr: number, touched?: Int32Array): number {
    const { weightDecay, clip } = this.options;
    if (touched !== this.pending) throw new Error('FlatAdamW.step: the touched rows differ from those stepUntouched() was given');
    this.pending = undefined;
    const ranges = (segment: Segment, each: (from: number, to: number) => void) =>
      touched && segment.rowSize !== undefined ? FlatAdamW.rowRanges(segment, touched, true, each) : each(segment.offset, segment.offset + segment.size);
    // The norm adds the same non-zero terms in the same order as over every element.
    let sq = 0;
    for (const segment of this.segments) {
      ranges(segment, (from, to) => {
        for (let i = from; i < to; i++) sq += grads[i]! * grads[i]!;
      });
    }
    const norm = Math.sqrt(sq);
    const scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1;
    this.t++;
    for (const segment of this.segments) {
      const keep = segment.decay ? 1 - lr * weightDecay : 1;
      ranges(segment, (from, to) => this.update(params, grads, scale, from, to, lr, keep, this.t));
    }
    return norm;
  }
}
