/**
 * recommend(): the model's next items for this shopper, without the items the shop excludes,
 * what is in the cart or was just bought and what the page's other placements show, filtered
 * as the shop asks; the popular list before consent, without a model, for a held-out shopper,
 * or when asked for.
 */
import type { CatalogItem } from '@hunch/core';
import type { RecommendOptions } from '../api.js';
import { itemsInCartOrBought } from '../cart.js';
import type { Catalog } from '../catalog.js';
import type { Consent } from '../consent.js';
import { logOnce } from '../lib/log.js';
import type { Predictor } from '../predictor.js';
import { candidatesFor, reasonFor, recentlySeen, type Recommendation } from './recommendations.js';

export interface Recommender {
  recommend(options?: RecommendOptions): Promise<Recommendation[]>;
  /** A new page: its placements start afresh. */
  newPage(): void;
}

/** The popular list as scores (1 / rank), lazily. */
async function* popularScores(items: AsyncIterable<CatalogItem>): AsyncGenerator<{ item: CatalogItem; score: number }> {
  let rank = 0;
  for await (const item of items) yield { item, score: 1 / ++rank };
}

export function createRecommender(consent: Consent, catalog: Catalog, predictor: Predictor): Recommender {
  async function recommendFor({ k = 6, exclude = [], filter, includeCart = false, popularOnly = false }: RecommendOptions): Promise<Recommendation[]> {
    const keep = (item: CatalogItem) => {
      try {
        return !filter || filter(item) === true;
      } catch (error) {
        logOnce('recommend filter threw', error);
        return false;
      }
    };
    // Stops at k: a big shop's popular list (or a whole-catalog ranking) is not walked to its end.
    const build = async (source: Recommendation['source'], scored: AsyncIterable<{ item: CatalogItem; score: number }> | Iterable<{ item: CatalogItem; score: number }>, excluded: Set<string>, seen: CatalogItem[]) => {
      const picked: Recommendation[] = [];
      for await (const { item, score } of scored) {
        if (picked.length >= k) break;
        if (!excluded.has(item.id) && keep(item)) picked.push({ item, score, source, reason: reasonFor(item, source, seen) });
      }
      return picked;
    };
    const popular = (excluded: Set<string>) => build('popular', popularScores(catalog.popular()), excluded, []);
    if (!consent.allows('storage')) return popular(new Set(exclude));
    const events = await predictor.recentEvents();
    const excluded = new Set([...exclude, ...(includeCart ? [] : itemsInCartOrBought(events))]);
    // The popular list leaves out the cart too ("Complete your cart" never offers what is in it).
    if (popularOnly) return popular(excluded);
    const ask = async (candidates: number) => {
      const { prediction, entries } = await predictor.predictWithEntries(events, { k: candidates, exclude: [...excluded] });
      if (!prediction) return undefined;
      const scored = prediction.items.flatMap(({ itemId, score }) => (entries.has(itemId) ? [{ item: entries.get(itemId)!, score }] : []));
      return { picked: await build('model', scored, excluded, recentlySeen(events, entries)), exhausted: prediction.items.length < candidates };
    };
    let answer = await ask(candidatesFor(k, excluded.size, filter !== undefined));
    // A narrow filter can reject most of the top: then rank the whole catalog once.
    if (answer && answer.picked.length < k && !answer.exhausted) answer = await ask(Number.MAX_SAFE_INTEGER);
    return answer?.picked ?? popular(excluded);
  }

  /** What each placement on this page shows now (recommend({ placement })). */
  const shownBy = new Map<string, string[]>();

  return {
    async recommend(options = {}) {
      const { placement } = options;
      const elsewhere = placement === undefined ? [] : [...shownBy].flatMap(([other, ids]) => (other === placement ? [] : ids));
      const recs = await recommendFor({ ...options, exclude: [...(options.exclude ?? []), ...elsewhere] });
      if (placement !== undefined) shownBy.set(placement, recs.map((rec) => rec.item.id));
      return recs;
    },
    newPage: () => shownBy.clear(),
  };
}
