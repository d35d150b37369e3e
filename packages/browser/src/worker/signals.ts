/**
 * What the next-token distribution says about intent, besides which items: the kind of the
 * next event and the categories the shopper is drifting towards. Both come from the same
 * last-position logits as the recommendations, so intent costs no extra forward pass.
 */
import { isEventName, type CatalogIndex } from '@hunch/core';

export interface ActionTokenId {
  tokenId: number;
  /** The event name the token stands for ("add_to_cart"). */
  action: string;
}

/** The vocabulary's action tokens ("<add_to_cart>" ...); "<|endoftext|>" and the like are not actions. */
export function actionTokenIds(tokens: readonly string[]): ActionTokenId[] {
  const actions: ActionTokenId[] = [];
  tokens.forEach((token, tokenId) => {
    if (!token.startsWith('<')) return; // most tokens are items: no regex for them (43k in a big shop)
    const name = /^<([a-z_]+)>$/.exec(token)?.[1];
    if (name !== undefined && isEventName(name)) actions.push({ tokenId, action: name });
  });
  return actions;
}

/**
 * P(next event is of each kind), normalised over the tokens that start an event: the action
 * tokens and the item tokens (a product view is the item token alone, so their mass is
 * "view_item"). Search-text pieces and special tokens never start an event and are left out.
 * `itemLogSumExp` (ranking.ts itemDistribution) stands for all item tokens: no second pass
 * over a big catalog.
 */
export function nextActionProbabilities(logits: Float32Array, actions: readonly ActionTokenId[], itemLogSumExp: number): Record<string, number> {
  let max = itemLogSumExp;
  for (const { tokenId } of actions) max = Math.max(max, logits[tokenId]!);
  const mass: Record<string, number> = {};
  if (itemLogSumExp > -Infinity) mass.view_item = Math.exp(itemLogSumExp - max);
  for (const { tokenId, action } of actions) mass[action] = (mass[action] ?? 0) + Math.exp(logits[tokenId]! - max);
  const total = Object.values(mass).reduce((sum, weight) => sum + weight, 0);
  for (const action of Object.keys(mass)) mass[action]! /= total;
  return mass;
}

/** Each item's category as an index into `names` (-1: none), built once per model. */
export interface CategoryIndex {
  of: Int32Array;
  names: string[];
}

export function categoryIndex(items: { readonly length: number; itemId(index: number): string | undefined }, catalog: Pick<CatalogIndex, 'category'>): CategoryIndex {
  const names: string[] = [];
  const ids = new Map<string, number>();
  const of = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const itemId = items.itemId(i);
    const category = itemId === undefined ? undefined : catalog.category(itemId);
    if (!category) {
      of[i] = -1;
      continue;
    }
    if (!ids.has(category)) ids.set(category, names.push(category) - 1);
    of[i] = ids.get(category)!;
  }
  return { of, names };
}

/** Categories by the summed next-item probability of their items, best first, at most `limit`. */
export function categoryScores(probabilities: Float32Array, categories: CategoryIndex, limit: number): Array<{ category: string; score: number }> {
  if (categories.names.length === 0) return [];
  const mass = new Float64Array(categories.names.length);
  for (let i = 0; i < probabilities.length; i++) {
    const category = categories.of[i]!;
    if (category >= 0) mass[category]! += probabilities[i]!;
  }
  return categories.names
    .map((category, i) => ({ category, score: mass[i]! }))
    .sort((a, b) => b.score - a.score || (a.category < b.category ? -1 : 1))
    .slice(0, limit);
}
