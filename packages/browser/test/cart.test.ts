import { describe, expect, it } from 'vitest';
import type { HunchEvent } from '@hunch/core';
import { itemsInCartNow, itemsInCartOrBought } from '../src/cart.js';

let ts = 0;
const event = (name: HunchEvent['name'], params: HunchEvent['params']): HunchEvent => ({ id: `e${ts}`, name, ts: ts++, sessionId: 's', params });

describe('cart', () => {
  it('knows the cart: added, removed, bought', () => {
    const events = [
      event('add_to_cart', { item_id: 'mug-1' }),
      event('add_to_cart', { item_id: 'tea-1' }),
      event('remove_from_cart', { item_id: 'tea-1' }),
      event('purchase', { items: [{ item_id: 'lamp-1' }] }),
    ];
    expect([...itemsInCartOrBought(events)].sort()).toEqual(['lamp-1', 'mug-1']);
  });

  it('after a purchase: nothing in the cart now, but what was in it and what was bought stays out of recommendations', () => {
    const events = [event('add_to_cart', { item_id: 'mug-1' }), event('purchase', { items: [{ item_id: 'mug-1' }, { item_id: 'tea-1' }] }), event('add_to_cart', { item_id: 'lamp-1' })];
    expect([...itemsInCartNow(events)]).toEqual(['lamp-1']);
    expect([...itemsInCartOrBought(events)].sort()).toEqual(['lamp-1', 'mug-1', 'tea-1']);
  });
});
