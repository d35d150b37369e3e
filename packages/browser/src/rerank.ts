/**
 * Personalising a list the shop already ranked (search results, a category page) without
 * throwing its relevance away: reciprocal rank fusion of the shop's order and the model's
 * (Cormack et al., 2009), the usual way to merge rankings whose scores are not comparable.
 * An item the model does not know keeps only its own term, so it sinks gently, not to the end.
 */
import { logOnce } from './lib/log.js';
import type { Predictor } from './predictor.js';

/** RRF's constant: large enough that the top few of either list do not dominate. */
export const RRF_K = 60;

/**
 * `ids` (the shop's order) reordered: score = 1/(RRF_K + shop rank) + 1/(RRF_K + model rank),
 * ties kept in the shop's order. `modelOrder` lists the known ids, most probable first.
 */
export function fuseRanks(ids: readonly string[], modelOrder: readonly string[]): number[] {
  const modelRank = new Map(modelOrder.map((id, rank) => [id, rank + 1]));
  const score = ids.map((id, i) => 1 / (RRF_K + i + 1) + (modelRank.has(id) ? 1 / (RRF_K + modelRank.get(id)!) : 0));
  return ids.map((_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
}

/** The id of a list entry: the entry itself, or its item_id / id field. */
export function defaultIdOf(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry === 'object' && entry !== null) {
    const { item_id, id } = entry as { item_id?: unknown; id?: unknown };
    if (typeof item_id === 'string') return item_id;
    if (typeof id === 'string') return id;
  }
  return undefined;
}

/** rerank(): `items` in this shopper's order, or in their own when there is no model or anything fails. */
export async function rerank<T>(predictor: Predictor, items: readonly T[], idOf: (item: T) => string | undefined = defaultIdOf): Promise<T[]> {
  try {
    const ids = items.map((item) => idOf(item) ?? '');
    const events = await predictor.recentEvents();
    const prediction = await predictor.predict(events, { k: 0, exclude: [], candidates: [...new Set(ids.filter(Boolean))] });
    if (!prediction) return [...items];
    return fuseRanks(ids, prediction.candidates.map(({ itemId }) => itemId)).map((index) => items[index]!);
  } catch (error) {
    logOnce('rerank failed, keeping the shop’s order', error);
    return [...items];
  }
}
