/**
 * Reusable score arrays for sparse baselines: allocating a fresh 43k-float array per
 * example would churn gigabytes through the GC during one evaluation.
 */
export class ScoreBuffers {
  private readonly buffers: Float32Array[] = [];

  constructor(readonly numItems: number) {}

  /** `count` zeroed arrays, valid until the next call. */
  take(count: number): Float32Array[] {
    while (this.buffers.length < count) this.buffers.push(new Float32Array(this.numItems));
    const taken = this.buffers.slice(0, count);
    for (const buffer of taken) buffer.fill(0);
    return taken;
  }
}

/** Sums scattered scores over a few items of many, and hands back only those: a sparse score. */
export class SparseSums {
  private readonly sums: Float64Array;
  private readonly isTouched: Uint8Array;
  private readonly touched: number[] = [];

  constructor(numItems: number) {
    this.sums = new Float64Array(numItems);
    this.isTouched = new Uint8Array(numItems);
  }

  readonly add = (item: number, value: number): void => {
    if (!this.isTouched[item]) {
      this.isTouched[item] = 1;
      this.touched.push(item);
    }
    this.sums[item]! += value;
  };

  /** The items added to and their sums, unordered; then empty again. */
  take(): { items: Int32Array; scores: Float64Array } {
    const items = Int32Array.from(this.touched);
    const scores = Float64Array.from(this.touched, (item) => this.sums[item]!);
    for (const item of this.touched) {
      this.sums[item] = 0;
      this.isTouched[item] = 0;
    }
    this.touched.length = 0;
    return { items, scores };
  }
}
