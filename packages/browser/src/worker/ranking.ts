import type { ScoredItem } from './protocol.js';

/**
 * The k best items from the logits of the last position: softmax over the catalog's
 * item tokens only (actions and search words are not recommendations).
 */
export function rankItems(
  logits: Float32Array,
  items: ReadonlyArray<{ tokenId: number; itemId: string }>,
  k: number,
  exclude: ReadonlySet<string>,
): ScoredItem[] {
  let max = -Infinity;
  for (const { tokenId } of items) max = Math.max(max, logits[tokenId]!);
  let total = 0;
  const scored: ScoredItem[] = [];
  for (const { tokenId, itemId } of items) {
    const weight = Math.exp(logits[tokenId]! - max);
    total += weight;
    if (!exclude.has(itemId)) scored.push({ itemId, score: weight });
  }
  scored.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
  return scored.slice(0, k).map(({ itemId, score }) => ({ itemId, score: score / total }));
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
  const out = Float32Array.from(logits);
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
