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
