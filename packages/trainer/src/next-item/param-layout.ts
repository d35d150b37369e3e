/**
 * Every parameter of a model in one flat Float32Array: the optimiser (train/optimizer.ts)
 * updates it in place, and worker threads read it from shared memory.
 */
import type { TensorMap } from '../safetensors.js';
import type { Segment } from '../train/optimizer.js';

export interface LayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each parameter lives in the flat array. */
export class ParamLayout {
  readonly entries: LayoutEntry[] = [];
  readonly byName = new Map<string, LayoutEntry>();
  readonly size: number;

  constructor(readonly shapes: Array<[string, number[]]>) {
    let offset = 0;
    for (const [name, shape] of shapes) {
      const size = shape.reduce((n, d) => n * d, 1);
      const entry = { name, shape, offset, size };
      this.entries.push(entry);
      this.byName.set(name, entry);
      offset += size;
    }
    this.size = offset;
  }

  view(flat: Float32Array, name: string): Float32Array {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter ${name}`);
    return flat.subarray(e.offset, e.offset + e.size);
  }

  /** Weight decay on matrices (rank >= 2) only, as nanoGPT. */
  segments(): Segment[] {
    return this.entries.map(({ offset, size, shape }) => ({ offset, size, decay: shape.length >= 2 }));
  }

  toTensorMap(flat: Float32Array): TensorMap {
    const out: TensorMap = new Map();
    for (const { name, shape } of this.entries) out.set(name, { shape, data: Float32Array.from(this.view(flat, name)) });
    return out;
  }
}
