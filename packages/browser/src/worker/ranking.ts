import type { ScoredItem } from './protocol.js';

export interface ItemDistribution {
  /** Each item's probability of being next, aligned with the items. */
  probabilities: Float32Array;
  /** log Σ exp(logit) over the item tokens: their mass against other tokens (signals.ts). */
  logSumExp: number;
}

/**
 * Softmax over the catalog's item tokens only (actions and search words are not
 * recommendations).
 */
export function itemDistribution(logits: Float32Array, items: ReadonlyArray<{ tokenId: number }>): ItemDistribution {
  // Plain indexed loops: this runs over every item (43,000 in a big shop) after each event.
  const n = items.length;
  const gathered = new Float32Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const logit = logits[items[i]!.tokenId]!;
    gathered[i] = logit;
    if (logit > max) max = logit;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const weight = Math.exp(gathered[i]! - max);
    gathered[i] = weight;
    total += weight;
  }
  const scale = 1 / total;
  for (let i = 0; i < n; i++) gathered[i]! *= scale;
  return { probabilities: gathered, logSumExp: n > 0 ? max + Math.log(total) : -Infinity };
}

/** The k most probable items not in `exclude`, best first (ties by item id). */
export function topItems(
  probabilities: Float32Array,
  items: ReadonlyArray<{ itemId: string }>,
  k: number,
  exclude: ReadonlySet<string>,
): ScoredItem[] {
  const better = (a: ScoredItem, b: ScoredItem) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1);
  if (k <= 0) return [];
  if (k * 8 > items.length) {
    const all = items.flatMap(({ itemId }, i) => (exclude.has(itemId) ? [] : [{ itemId, score: probabilities[i]! }]));
    return all.sort(better).slice(0, k);
  }
  // A short top of a big catalog (20 of 43,000): keep a sorted top-k instead of sorting everything.
  const top: ScoredItem[] = [];
  for (let i = 0; i < items.length; i++) {
    const score = probabilities[i]!;
    if (top.length === k && score < top[k - 1]!.score) continue;
    const { itemId } = items[i]!;
    if (exclude.has(itemId)) continue;
    const entry = { itemId, score };
    if (top.length === k) {
      if (better(entry, top[k - 1]!) >= 0) continue;
      top.pop();
    }
    let at = top.length;
    while (at > 0 && better(entry, top[at - 1]!) < 0) at--;
    top.splice(at, 0, entry);
  }
  return top;
}

/** The k best items from the logits of the last position (itemDistribution, then topItems). */
export function rankItems(
  logits: Float32Array,
  items: ReadonlyArray<{ tokenId: number; itemId: string }>,
  k: number,
  exclude: ReadonlySet<string>,
): ScoredItem[] {
  return topItems(itemDistribution(logits, items).probabilities, items, k, exclude);
}

/**
 * The model's repeat bonus (hunch.json `onnx.repeat`, addTo "history-items"): `bonus`, the
 * graph's repeat output at the last position, is added once to the logit of every item
 * token among the input tokens, however often it occurs. Returns a copy; `logits` is kept.
 */
export function addRepeatBonus(
  logits: Float32Array,
  inputIds: readonly number[],
  itemTokenIds: ReadonlySet<number>,
  bonus: number,
): Float32Array {
  const out = logits.slice(); // a typed copy (Float32Array.from would walk an iterator)
  for (const id of new Set(inputIds)) {
    if (itemTokenIds.has(id)) out[id] = out[id]! + bonus;
  }
  return out;
}

/**
 * The last row of a [1, rows, width] model output, read by its actual dims: a graph that
 * takes `num_logits_to_keep` returns 1 row for a recommendation, an older one (whose graph
 * lacks that input, which transformers.js then drops) one row per input position.
 */
export function lastRow(data: Float32Array, dims: readonly number[], width: number, name: string): Float32Array {
  const [batch, rows, actual] = dims;
  if (dims.length !== 3 || batch !== 1 || actual !== width || !rows) {
    throw new Error(`model output ${name} has dims [${dims.join(', ')}], expected [1, rows, ${width}]`);
  }
  return data.subarray((rows - 1) * width, rows * width);
}
