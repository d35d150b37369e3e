/**
 * The distillation term's inputs for one shard (loss.ts): every (position, soft item) pair of
 * its rows, from the teacher's table (soft-targets.ts), with the pair's weight, and each
 * position's sums of those weights. Weights come scaled by `scale` (α / normalizer).
 */

/** A teacher's soft targets: for each training position (row), k item ids best first and their weights (id 0, weight 0 when unused). */
export interface SoftTargetTable {
  k: number;
  ids: Int32Array;
  weights: Float32Array;
}

export interface SoftTargetBlock {
  /** [M]: each pair's position, b * T + t. */
  position: Int32Array;
  /** [M]: each pair's item, as the shard's local id. */
  item: Int32Array;
  /** [M]: the teacher's weight on that item at that position, times scale. */
  weight: Float32Array;
  /** [B * T]: Σ of the weights at position t (the weight on that position's log Z). */
  logZWeight: Float32Array;
  /** [B * T]: Σ over the items already in the prefix at t (the weight on t's repeat bonus). */
  bonusWeight: Float32Array;
  /** [U]: Σ of the weights on each of the shard's `U` local ids (what its bias gets). */
  itemWeight(U: number): Float32Array;
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
  // Each position's used items: rows are best first, the unused (weight 0) at the end.
  const used = (at: number) => {
    let j = 0;
    while (j < k && weights[at + j]! > 0) j++;
    return j;
  };
  let pairs = 0;
  for (let b = 0; b < B; b++) for (let t = 0; t < rows[b]!.length - 1; t++) pairs += used((starts[b]! + t) * k);
  const position = new Int32Array(pairs);
  const item = new Int32Array(pairs);
  const weight = new Float32Array(pairs);
  const logZWeight = new Float32Array(B * T);
  const bonusWeight = new Float32Array(B * T);
  let m = 0;
  for (let b = 0; b < B; b++) {
    const len = rows[b]!.length - 1;
    for (let t = 0; t < len; t++) {
      const n = b * T + t;
      const base = (starts[b]! + t) * k;
      for (let j = 0, end = used(base); j < end; j++) {
        const p = weights[base + j]!;
        const token = ids[base + j]!;
        const w = p * scale;
        position[m] = n;
        item[m] = localOf(token);
        weight[m++] = w;
        logZWeight[n] = logZWeight[n]! + w;
        const seenAt = firstAt[b]!.get(token);
        if (seenAt !== undefined && seenAt <= t) bonusWeight[n] = bonusWeight[n]! + w;
      }
    }
  }
  const itemWeight = (U: number) => {
    const sum = new Float32Array(U);
    for (let i = 0; i < m; i++) sum[item[i]!] = sum[item[i]!]! + weight[i]!;
    return sum;
  };
  return { position, item, weight, logZWeight, bonusWeight, itemWeight };
}
