import { describe, expect, it } from 'vitest';
import type { CatalogItem, HunchEvent } from '@hunch/core';
import { candidatesFor, reasonFor, recentlySeen } from '../src/recommend/recommendations.js';

const item = (id: string, category: string): CatalogItem => ({ id, title: `Title ${id}`, url: `/p/${id}`, category });
const catalog = new Map([item('mug-1', 'mugs'), item('mug-2', 'mugs'), item('tea-1', 'tea'), item('lamp-1', 'lamps')].map((i) => [i.id, i]));
let ts = 0;
const event = (name: HunchEvent['name'], params: HunchEvent['params']): HunchEvent => ({ id: `e${ts}`, name, ts: ts++, sessionId: 's', params });

describe('recommendations', () => {
  it('explains a model pick by the latest product seen of its category, never by itself', () => {
    const seen = recentlySeen([event('view_item', { item_id: 'mug-1' }), event('view_item', { item_id: 'tea-1' }), event('view_item', { item_id: 'mug-2' }), event('search', { search_term: 'x' })], catalog);
    expect(seen.map((i) => i.id)).toEqual(['mug-2', 'tea-1', 'mug-1']);
    expect(reasonFor(catalog.get('mug-1')!, 'model', seen)).toBe('Because you viewed Title mug-2');
    expect(reasonFor(catalog.get('mug-2')!, 'model', seen)).toBe('Because you viewed Title mug-1');
    expect(reasonFor(catalog.get('lamp-1')!, 'model', seen)).toBe('Picked for you');
    expect(reasonFor(catalog.get('lamp-1')!, 'popular', seen)).toBe('Popular right now');
  });

  it('asks the model for enough candidates to survive exclusions and a filter', () => {
    expect(candidatesFor(6, 2, false)).toBe(8);
    expect(candidatesFor(6, 2, true)).toBe(26);
  });
});
