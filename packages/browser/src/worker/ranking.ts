import type { ItemList } from './item-list.js';
import type { ScoredItem } from './protocol.js';
import type { ItemScores } from './softmax/item-scores.js';

export interface ItemDistribution {
  /** Each item's probability of being next, aligned with the items. */
  probabilities: Float32Array;
  /** log Σ exp(logit) over the item tokens: their mass against other tokens (signals.ts). */
  logSumExp: number;
}

/**
 * Softmax over the catalog's item tokens only (actions and search words are not
 * recommendations), in JS: the reference of the worker's WASM pass (softmax/item-softmax.ts)
 * and its fallback where WebAssembly SIMD is missing. `itemTokenIds[i]` is item i's token; the probabilities go to `into`
 * (reused across steps by the worker: allocating a fresh vocabulary-sized array per event
 * is most of its cost).
 */
export function itemDistribution(
  logits: Float32Array,
  itemTokenIds: ArrayLike<number>,
  into: Float32Array = new Float32Array(itemTokenIds.length),
): ItemDistribution {
  // Plain indexed loops over typed arrays: this runs over every item (43,000 in a big shop) after each event.
  const n = itemTokenIds.length;
  if (into.length !== n) throw new Error(`itemDistribution: ${n} items but an output of ${into.length}`);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const logit = logits[itemTokenIds[i]!]!;
    into[i] = logit;
    if (logit > max) max = logit;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const weight = Math.exp(into[i]! - max);
    into[i] = weight;
    total += weight;
  }
  const scale = 1 / total;
  for (let i = 0; i < n; i++) into[i]! *= scale;
  return { probabilities: into, logSumExp: n > 0 ? max + Math.log(total) : -Infinity };
}

/**
 * The k most probable of `items` not in `exclude` by `scores` (softmax/), best first (ties by item id), reading the
 * product ids of the few it keeps (a big shop's sharded item tokens: item-list.ts). The best
 * k + |exclude| indices are picked by probability alone (ties by index, which follows the
 * vocabulary's sorted item tokens); an item whose shard cannot be read is left out and the next
 * ones are read in its place (twice as many, at most 3 more times). Throws when no product id
 * could be read at all: the page then shows its fallback.
 */
export async function topListedItems(scores: Pick<ItemScores, 'top' | 'probability'>, items: ItemList, k: number, exclude: ReadonlySet<string>): Promise<ScoredItem[]> {
  if (k <= 0 || items.length === 0) return [];
  let take = Math.min(items.length, k + exclude.size);
  for (let round = 0; ; round++) {
    const picked = scores.top(take);
    await items.ensureItems(picked);
    let unknown = 0;
    const scored = [...picked].flatMap((index): ScoredItem[] => {
      const itemId = items.itemId(index);
      if (itemId === undefined) unknown++;
      return itemId === undefined || exclude.has(itemId) ? [] : [{ itemId, score: scores.probability(index) }];
    });
    if (unknown === picked.length) throw new Error('no product id of the top items could be read (item vocabulary shards)');
    if (scored.length >= k || unknown === 0 || take === items.length || round === 3) return scored.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1)).slice(0, k);
    take = Math.min(items.length, take * 2);
  }
}

/** The `count` largest values offered, largest first (ties: the one offered first first), kept sorted in typed arrays. */
export class TopValues {
  private readonly index: Int32Array;
  private readonly value: Float32Array;
  private size = 0;

  constructor(private readonly count: number) {
    this.index = new Int32Array(count);
    this.value = new Float32Array(count);
  }

  /** The smallest value kept once `count` are (a value must be above it to get in); undefined before. */
  get lowest(): number | undefined {
    return this.size === this.count && this.count > 0 ? this.value[this.count - 1]! : undefined;
  }

  offer(i: number, v: number): void {
    const { count, index, value } = this;
    if (count === 0 || (this.size === count && !(v > value[count - 1]!))) return;
    let at = this.size < count ? this.size++ : count - 1;
    while (at > 0 && v > value[at - 1]!) {
      value[at] = value[at - 1]!;
      index[at] = index[at - 1]!;
      at--;
    }
    value[at] = v;
    index[at] = i;
  }

  /** The indices kept, largest value first. */
  indices(): Int32Array {
    return this.index.subarray(0, this.size);
  }
}

/** Indices of the `count` largest values, largest first (ties: lower index first); one pass. */
export function topIndices(values: Float32Array, count: number): Int32Array {
  const top = new TopValues(count);
  for (let i = 0; i < values.length; i++) top.offer(i, values[i]!);
  return top.indices();
}

/**
 * The model's repeat bonus (hunch.json `onnx.repeat`, addTo "history-items"): `bonus`, the
 * graph's repeat output at the last position, is added once to the logit of every item
 * token among the input tokens, however often it occurs. Writes `logits` plus the bonus to
 * `into` (by default a new array; `logits` itself to add in place) and returns it.
 */
export function addRepeatBonus(
  logits: Float32Array,
  inputIds: readonly number[],
  itemTokenIds: { has(tokenId: number): boolean },
  bonus: number,
  into: Float32Array = new Float32Array(logits.length),
): Float32Array {
  const out = into;
  if (out !== logits) out.set(logits);
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
