/**
 * What recommend() returns, a catalog item with a reason the shop can show ("Because you
 * viewed …"), and the rules recommender.ts builds the list with.
 */
import type { CatalogItem, HunchEvent } from '@hunch/core';

export interface Recommendation {
  item: CatalogItem;
  /** The model's probability for this item, or a popularity score for the fallback. */
  score: number;
  source: 'model' | 'popular';
  /** Why, in words a shop can show: "Because you viewed Blue Mug", "Popular right now". */
  reason: string;
}

/** Products the shopper looked at or acted on, most recent first, each once. */
export function recentlySeen(events: readonly HunchEvent[], catalog: ReadonlyMap<string, CatalogItem>): CatalogItem[] {
  const seen = new Map<string, CatalogItem>();
  for (let i = events.length - 1; i >= 0; i--) {
    const id = events[i]!.params.item_id;
    const item = id === undefined ? undefined : catalog.get(id);
    if (item && !seen.has(item.id)) seen.set(item.id, item);
  }
  return [...seen.values()];
}

/** The reason for a model recommendation: the latest product seen of the same category, if any. */
export function reasonFor(item: CatalogItem, source: Recommendation['source'], seen: readonly CatalogItem[]): string {
  if (source === 'popular') return 'Popular right now';
  const related = item.category === undefined ? undefined : seen.find((other) => other.category === item.category && other.id !== item.id);
  return related ? `Because you viewed ${related.title}` : 'Picked for you';
}

/** How many candidates to ask the model for, so that `k` remain after exclusions and the filter. */
export function candidatesFor(k: number, excluded: number, filtered: boolean): number {
  return (filtered ? 4 * k : k) + excluded;
}
