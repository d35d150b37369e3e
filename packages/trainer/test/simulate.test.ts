import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateEvent, type CatalogItem } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { simulateEvents } from '../src/simulate.js';

const catalogPath = fileURLToPath(new URL('../../../examples/storefront/catalog.json', import.meta.url));
const catalog = (JSON.parse(readFileSync(catalogPath, 'utf8')) as { products: CatalogItem[] }).products;
const ndjson = (seed: number, sessions = 200) =>
  [...simulateEvents(catalog, { sessions, seed })].map((event) => JSON.stringify(event)).join('\n');

describe('simulateEvents', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(ndjson(7)).toBe(ndjson(7));
    expect(ndjson(7)).not.toBe(ndjson(8));
  });

  it('writes only valid events, with unique ids, each session in time order', () => {
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
    expect([...names].sort()).toEqual(['add_to_cart', 'page_view', 'purchase', 'search', 'view_item']);
  });

  it('gives missions a strong category affinity, and some sessions several missions', () => {
    const bySession = new Map<string, string[]>();
    for (const event of simulateEvents(catalog, { sessions: 300, seed: 5 })) {
      if (event.name !== 'view_item') continue;
      bySession.set(event.sessionId, [...(bySession.get(event.sessionId) ?? []), event.params.item_category!]);
    }
    // Within a mission most views stay in its category; missions change now and then.
    let sameAsPrevious = 0;
    let pairs = 0;
    let switchingSessions = 0;
    for (const categories of bySession.values()) {
      for (let i = 1; i < categories.length; i++) {
        pairs++;
        if (categories[i] === categories[i - 1]) sameAsPrevious++;
      }
      const counts = new Map<string, number>();
      for (const c of categories) counts.set(c, (counts.get(c) ?? 0) + 1);
      if ([...counts.values()].filter((n) => n >= 2).length >= 2) switchingSessions++;
    }
    expect(sameAsPrevious / pairs).toBeGreaterThan(0.7);
    expect(switchingSessions / bySession.size).toBeGreaterThan(0.15);
    expect(switchingSessions / bySession.size).toBeLessThan(0.6);
  });
});
