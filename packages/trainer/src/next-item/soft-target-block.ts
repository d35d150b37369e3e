/**
 * The distillation term's inputs for one shard (loss.ts): each row's soft items, the union of
 * its positions' (soft-targets.ts's table rows), and every position's weights over them, laid
 * out for one [W, T] x [T, D] product a row. Weights come scaled by `scale` (α / normalizer).
 */

/** A teacher's soft targets: for each training position (row), k item ids best first and their weights (id 0, weight 0 when unused). */
export interface SoftTargetTable {
  k: number;
  ids: Int32Array;
  weights: Float32Array;
}

export interface SoftTargetBlock {
  /** Columns a row has (the most soft items of any row; rows with fewer pad with weight 0). */
  width: number;
  /** [B, width] local ids of each row's soft items. */
  local: Int32Array;
  /** [B, width, T]: position t's weight on the row's item u, times scale. */
  weightsByItem: Float32Array;
  /** [B, width]: Σ_t of the above (what the item's bias gets). */
  itemWeight: Float32Array;
  /** [B * T]: Σ_u at position t (the weight on that position's log Z). */
  logZWeight: Float32Array;
  /** [B * T]: Σ_u over the items already in the prefix at t (the weight on t's repeat bonus). */
  bonusWeight: Float32Array;
}

/** The table in a SharedArrayBuffer (as it is when already there): posted to training workers, it is shared, not copied. */
export function sharedSoftTargets(table: SoftTargetTable): SoftTargetTable {
  if (table.ids.buffer instanceof SharedArrayBuffer && table.weights.buffer instanceof SharedArrayBuffer) return table;
  const ids = new Int32Array(new SharedArrayBuffer(table.ids.byteLength));
  const weights = new Float32Array(new SharedArrayBuffer(table.weights.byteLength));
  ids.set(table.ids);
  weights.set(table.weights);
  return { k: table.k, ids, weights };
}

const add = (into: Float32Array, at: number, value: number) => {
  into[at] = into[at]! + value;
};

/**
 * `rows` as the loss pads them to T positions; `firstAt[b]`: where each item of row b first
 * occurs; `localOf`: the shard's local id of a token (adding it when new).
 */
export function softTargetBlock(
  rows: readonly Int32Array[],
  firstAt: ReadonlyArray<ReadonlyMap<number, number>>,
  soft: { table: SoftTargetTable; starts: Int32Array },
  T: number,
  scale: number,
  localOf: (token: number) => number,
): SoftTargetBlock {
  const { table, starts } = soft;
  const { k, ids, weights } = table;
  const B = rows.length;
  if (starts.length !== B) throw new Error(`soft targets: ${starts.length} row starts for ${B} rows`);
  // Each row's items, in first-use order, and its column of each.
  const columns: Array<Map<number, number>> = [];
  for (let b = 0; b < B; b++) {
    const column = new Map<number, number>();
    const len = rows[b]!.length - 1;
    for (let t = 0; t < len; t++) {
      const base = (starts[b]! + t) * k;
      for (let j = 0; j < k && weights[base + j]! > 0; j++) if (!column.has(ids[base + j]!)) column.set(ids[base + j]!, column.size);
    }
    columns.push(column);
  }
  const width = Math.max(1, ...columns.map((c) => c.size));
  const local = new Int32Array(B * width).fill(localOf(0));
  const weightsByItem = new Float32Array(B * width * T);
  const itemWeight = new Float32Array(B * width);
  const logZWeight = new Float32Array(B * T);
  const bonusWeight = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const column = columns[b]!;
    for (const [item, u] of column) local[b * width + u] = localOf(item);
    const len = rows[b]!.length - 1;
    for (let t = 0; t < len; t++) {
      const base = (starts[b]! + t) * k;
      for (let j = 0; j < k; j++) {
        const p = weights[base + j]!;
        if (!(p > 0)) break; // rows are best first: the rest are unused
        const item = ids[base + j]!;
        const u = column.get(item)!;
        const w = p * scale;
        add(weightsByItem, (b * width + u) * T + t, w);
        add(itemWeight, b * width + u, w);
        add(logZWeight, b * T + t, w);
        const seenAt = firstAt[b]!.get(item);
        if (seenAt !== undefined && seenAt <= t) add(bonusWeight, b * T + t, w);
      }
    }
  }
  return { width, local, weightsByItem, itemWeight, logZWeight, bonusWeight };
}
