import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_NAMES, isBehaviourEvent, validateEvent, type CatalogItem, type HunchEvent } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { simulateEvents } from '../src/simulate.js';

const catalogPath = fileURLToPath(new URL('../../../examples/storefront/catalog.json', import.meta.url));
const catalog = (JSON.parse(readFileSync(catalogPath, 'utf8')) as { products: CatalogItem[] }).products;
const categoryOf = new Map(catalog.map((product) => [product.id, product.category!]));
const byId = new Map(catalog.map((product) => [product.id, product]));
const ndjson = (seed: number, sessions = 200) =>
  [...simulateEvents(catalog, { sessions, seed })].map((event) => JSON.stringify(event)).join('\n');

/** Sessions in file order, each its events in order. */
function sessionsOf(events: Iterable<HunchEvent>): HunchEvent[][] {
  const sessions = new Map<string, HunchEvent[]>();
  for (const event of events) sessions.set(event.sessionId, [...(sessions.get(event.sessionId) ?? []), event]);
  return [...sessions.values()];
}

const sessions = sessionsOf(simulateEvents(catalog, { sessions: 2000, seed: 11 }));
const share = (part: number, whole: number) => part / whole;
const has = (session: HunchEvent[], name: HunchEvent['name']) => session.some((event) => event.name === name);

describe('simulateEvents', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(ndjson(7)).toBe(ndjson(7));
    expect(ndjson(7)).not.toBe(ndjson(8));
  });

  it('writes only valid events, with unique ids, each session in time order, of every GA4 retail kind', () => {
    const lines = ndjson(3, 300).split('\n');
    const ids = new Set<string>();
    const lastTs = new Map<string, number>();
    for (const line of lines) {
      const checked = validateEvent(JSON.parse(line));
      expect(checked.ok, line).toBe(true);
      if (!checked.ok) continue;
      const event = checked.value;
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids.has(event.id)).toBe(false);
      ids.add(event.id);
      expect(event.ts).toBeGreaterThan(lastTs.get(event.sessionId) ?? 0);
      lastTs.set(event.sessionId, event.ts);
    }
    expect(lastTs.size).toBe(300);
    const names = new Set(lines.map((line) => (JSON.parse(line) as { name: string }).name));
    // Every kind of shopper behaviour (not exposures, decisions or promotions: those are about what the shop showed).
    expect([...names].sort()).toEqual(EVENT_NAMES.filter(isBehaviourEvent).sort());
  });

  it('has a realistic event mix: product views most, then list impressions and clicks; few purchases', () => {
    const counts = new Map<string, number>();
    let total = 0;
    for (const event of sessions.flat()) {
      counts.set(event.name, (counts.get(event.name) ?? 0) + 1);
      total++;
    }
    const shareOf = (name: string) => share(counts.get(name) ?? 0, total);
    const ranked = [...counts].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    expect(ranked.slice(0, 3)).toEqual(['view_item', 'view_item_list', 'select_item']);
    expect(shareOf('view_item')).toBeGreaterThan(0.3);
    expect(shareOf('view_item')).toBeLessThan(0.5);
    expect(shareOf('page_view')).toBeCloseTo(share(sessions.length, total), 10); // one per visit
    for (const name of ['search', 'add_to_cart']) {
      expect(shareOf(name), name).toBeGreaterThan(0.01);
      expect(shareOf(name), name).toBeLessThan(0.1);
    }
    expect(shareOf('purchase')).toBeLessThan(shareOf('begin_checkout'));
    expect(shareOf('begin_checkout')).toBeLessThan(shareOf('add_to_cart'));
    expect(shareOf('remove_from_cart')).toBeGreaterThan(0.002);
    // Popularity is skewed: the most viewed tenth of the catalog gets over a quarter of the views.
    const views = new Map<string, number>();
    for (const event of sessions.flat()) if (event.name === 'view_item') views.set(event.params.item_id!, (views.get(event.params.item_id!) ?? 0) + 1);
    const sorted = [...views.values()].sort((a, b) => b - a);
    const all = sorted.reduce((a, b) => a + b, 0);
    expect(share(sorted.slice(0, Math.ceil(catalog.length / 10)).reduce((a, b) => a + b, 0), all)).toBeGreaterThan(0.25);
    expect(views.size).toBeGreaterThan(0.95 * catalog.length); // yet nearly every product is seen
  });

  it('gives shoppers a strong category affinity, and some sessions several missions', () => {
    let sameAsPrevious = 0;
    let pairs = 0;
    let dominant = 0;
    let viewsInAll = 0;
    let switchingSessions = 0;
    let viewing = 0;
    for (const session of sessions) {
      const categories = session.filter((event) => event.name === 'view_item').map((event) => event.params.item_category!);
      if (categories.length === 0) continue;
      viewing++;
      for (let i = 1; i < categories.length; i++) {
        pairs++;
        if (categories[i] === categories[i - 1]) sameAsPrevious++;
      }
      const counts = new Map<string, number>();
      for (const c of categories) counts.set(c, (counts.get(c) ?? 0) + 1);
      dominant += Math.max(...counts.values());
      viewsInAll += categories.length;
      if ([...counts.values()].filter((n) => n >= 2).length >= 2) switchingSessions++;
    }
    // Within a mission most views stay in its category; missions change now and then.
    expect(share(sameAsPrevious, pairs)).toBeGreaterThan(0.7);
    expect(share(sameAsPrevious, pairs)).toBeLessThan(0.95); // strays and new missions
    expect(share(dominant, viewsInAll)).toBeGreaterThan(0.65);
    expect(share(switchingSessions, viewing)).toBeGreaterThan(0.1);
    expect(share(switchingSessions, viewing)).toBeLessThan(0.5);
  });

  it('searches for what it then views', () => {
    let searches = 0;
    let matching = 0;
    for (const session of sessions) {
      session.forEach((event, i) => {
        if (event.name !== 'search') return;
        searches++;
        const next = session.slice(i + 1).find((later) => later.name === 'view_item');
        if (!next) return;
        const category = next.params.item_category!;
        // The term names the category or a word of one of its titles.
        const words = new Set(catalog.filter((product) => product.category === category).flatMap((product) => product.title.toLowerCase().split(/\s+/)));
        if (event.params.search_term!.split(' ').some((word) => word === category || words.has(word))) matching++;
      });
    }
    expect(searches).toBeGreaterThan(100);
    expect(share(matching, searches)).toBeGreaterThan(0.85);
  });

  it('follows the funnel: clicks open what they name, carts come before checkouts, checkouts before purchases', () => {
    for (const session of sessions) {
      expect(session[0]!.name).toBe('page_view');
      const cart = new Set<string>();
      let checkout: string[] | undefined;
      session.forEach((event, i) => {
        const { item_id } = event.params;
        switch (event.name) {
          case 'select_item':
            expect(session[i + 1]).toMatchObject({ name: 'view_item', params: { item_id } });
            expect(event.params.item_list_id).toBeTruthy();
            break;
          case 'search': {
            // The results, or the page of the product the shopper named.
            const next = session[i + 1]!;
            if (next.name === 'view_item') expect(event.params.search_term).toBe(byId.get(next.params.item_id!)!.title.toLowerCase());
            else expect(next).toMatchObject({ name: 'view_item_list', params: { item_list_id: 'search' } });
            break;
          }
          case 'add_to_cart':
            // Only what the shopper looked at, and only once.
            expect(session.slice(0, i).some((earlier) => earlier.name === 'view_item' && earlier.params.item_id === item_id)).toBe(true);
            expect(cart.has(item_id!)).toBe(false);
            cart.add(item_id!);
            break;
          case 'remove_from_cart':
            expect(cart.delete(item_id!)).toBe(true);
            break;
          case 'begin_checkout':
            expect(cart.size).toBeGreaterThan(0);
            checkout = event.params.items!.map((item) => item.item_id);
            expect(new Set(checkout)).toEqual(cart);
            expect(event.params.value).toBeGreaterThan(0);
            break;
          case 'purchase':
            expect(checkout).toBeDefined();
            expect(event.params.items!.map((item) => item.item_id)).toEqual(checkout);
            expect(i).toBe(session.length - 1); // the visit ends with it
            break;
        }
      });
    }
  });

  it('abandons most carts and some checkouts, within realistic bounds', () => {
    const carts = sessions.filter((session) => has(session, 'add_to_cart'));
    const checkouts = sessions.filter((session) => has(session, 'begin_checkout'));
    const purchases = sessions.filter((session) => has(session, 'purchase'));
    expect(share(carts.length, sessions.length)).toBeGreaterThan(0.15);
    expect(share(carts.length, sessions.length)).toBeLessThan(0.5);
    expect(share(purchases.length, sessions.length)).toBeGreaterThan(0.04);
    expect(share(purchases.length, sessions.length)).toBeLessThan(0.2);
    // Cart abandonment: Baymard's average is about 70 %.
    const cartAbandonment = 1 - share(purchases.length, carts.length);
    expect(cartAbandonment).toBeGreaterThan(0.55);
    expect(cartAbandonment).toBeLessThan(0.85);
    const checkoutAbandonment = 1 - share(purchases.length, checkouts.length);
    expect(checkoutAbandonment).toBeGreaterThan(0.15);
    expect(checkoutAbandonment).toBeLessThan(0.45);
    // What is bought was mostly looked at in its mission: the purchase's items are of categories viewed in the visit.
    for (const session of purchases) {
      const viewed = new Set(session.filter((event) => event.name === 'view_item').map((event) => categoryOf.get(event.params.item_id!)));
      for (const item of session.at(-1)!.params.items!) expect(viewed.has(categoryOf.get(item.item_id))).toBe(true);
    }
  });

  it('works on a bare catalog: no categories, no prices', () => {
    const bare: CatalogItem[] = Array.from({ length: 30 }, (_, i) => ({ id: `sku-${i}`, title: `Thing number ${i}`, url: `/p/${i}` }));
    const events = [...simulateEvents(bare, { sessions: 100, seed: 1 })];
    expect(events.every((event) => validateEvent(event).ok)).toBe(true);
    expect(events.some((event) => event.name === 'purchase')).toBe(true);
    expect(events.every((event) => event.params.value === undefined && event.params.item_category === undefined)).toBe(true);
  });
});
