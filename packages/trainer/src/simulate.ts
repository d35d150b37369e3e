/**
 * A seeded shopper simulator: sessions with a "mission" category, so that the data has
 * the structure a recommender should find (what you looked at predicts what you look at
 * next). Deterministic for a seed: same seed, same bytes.
 */
import type { CatalogItem, EventParams, HunchEvent } from '@hunch/core';
import { Rng } from './lib/prng.js';

export interface SimulateOptions {
  sessions: number;
  seed: number;
}

/** Fixed start of simulated time (2024-01-01T00:00:00Z), so output never depends on the clock. */
export const SIMULATION_EPOCH = Date.UTC(2024, 0, 1);

/** Chance that a viewed item is outside the session's mission category. */
const STRAY_VIEW = 0.1;
const SEARCH_CHANCE = 0.35;
const CART_CHANCE = 0.3;
const PURCHASE_CHANCE = 0.5;
/** Chance that a shopper moves on to another mission within the session (up to 3 missions). */
const MISSION_SWITCH = 0.4;
const MAX_MISSIONS = 3;

/** Words worth searching for in a product title (lower-case, 3+ letters). */
const titleWords = (title: string) => title.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [];

export function* simulateEvents(catalog: readonly CatalogItem[], options: SimulateOptions): Generator<HunchEvent> {
  const rng = new Rng(options.seed);
  const byCategory = new Map<string, CatalogItem[]>();
  for (const product of catalog) {
    const category = product.category ?? 'other';
    byCategory.set(category, [...(byCategory.get(category) ?? []), product]);
  }
  const categories = [...byCategory.keys()];
  if (categories.length === 0) throw new Error('catalog has no products');
  // Popularity within a category falls off like 1/rank (after a seeded shuffle), so some
  // items are clearly more popular than others, as in real shops.
  const weights = new Map<string, number[]>();
  for (const [category, items] of byCategory) {
    const order = rng.shuffle(items.map((_, i) => i));
    const w = new Array<number>(items.length).fill(0);
    order.forEach((itemIndex, rank) => (w[itemIndex] = 1 / (rank + 1)));
    weights.set(category, w);
  }
  const drawItem = (category: string) => byCategory.get(category)![rng.weighted(weights.get(category)!)]!;

  let clock = SIMULATION_EPOCH;
  for (let s = 0; s < options.sessions; s++) {
    const sessionId = rng.uuid();
    clock += 60_000 + rng.int(600_000);
    let ts = clock;
    const emit = (name: HunchEvent['name'], params: EventParams): HunchEvent => {
      ts += 2_000 + rng.int(60_000);
      return { id: rng.uuid(), name, ts, sessionId, params };
    };
    yield emit('page_view', { page_path: '/' });
    // Shoppers change their mind: later missions must win over earlier ones, so a model
    // learns that recent behaviour matters most.
    let viewed: CatalogItem[] = [];
    for (let m = 0; m === 0 || (m < MAX_MISSIONS && rng.next() < MISSION_SWITCH); m++) {
      const mission = rng.pick(categories);
      const missionItems = byCategory.get(mission)!;
      if (rng.next() < SEARCH_CHANCE) {
        const words = missionItems.flatMap((item) => titleWords(item.title));
        const term = rng.next() < 0.5 || words.length === 0 ? mission : rng.pick(words);
        yield emit('search', { search_term: term });
      }
      const views = 2 + rng.int(6);
      viewed = [];
      for (let v = 0; v < views; v++) {
        const stray = rng.next() < STRAY_VIEW;
        const item = drawItem(stray ? rng.pick(categories) : mission);
        if (!stray) viewed.push(item);
        yield emit('view_item', itemParams(item));
      }
    }
    if (viewed.length > 0 && rng.next() < CART_CHANCE) {
      const item = rng.pick(viewed);
      yield emit('add_to_cart', { ...itemParams(item), ...(item.price !== undefined ? { value: item.price, currency: 'EUR' } : {}) });
      if (rng.next() < PURCHASE_CHANCE) {
        yield emit('purchase', {
          items: [{ item_id: item.id, ...(item.category ? { item_category: item.category } : {}), ...(item.price !== undefined ? { price: item.price } : {}), quantity: 1 }],
          ...(item.price !== undefined ? { value: item.price, currency: 'EUR' } : {}),
        });
      }
    }
  }
}

function itemParams(item: CatalogItem): EventParams {
  const params: EventParams = { item_id: item.id };
  if (item.category !== undefined) params.item_category = item.category;
  return params;
}
