/**
 * The cart, read from the shopper's events. Two questions with different answers after a
 * purchase: the funnel stage asks what is in the cart now (a purchase empties it), while
 * recommendations skip what the shopper has in the cart or has just bought (a purchase adds
 * its items).
 */
import type { HunchEvent } from '@hunch/core';

/** How many recent events are read to know what is in the cart. */
export const CART_WINDOW = 200;

/** Items in the cart now: added, not removed, not bought since. */
export function itemsInCartNow(events: readonly HunchEvent[]): Set<string> {
  const cart = new Set<string>();
  for (const { name, params } of events) {
    if (name === 'add_to_cart' && params.item_id) cart.add(params.item_id);
    if (name === 'remove_from_cart' && params.item_id) cart.delete(params.item_id);
    if (name === 'purchase') cart.clear();
  }
  return cart;
}

/** Items added and not removed, or bought: not worth recommending again. */
export function itemsInCartOrBought(events: readonly HunchEvent[]): Set<string> {
  const cart = new Set<string>();
  for (const { name, params } of events) {
    if (name === 'add_to_cart' && params.item_id) cart.add(params.item_id);
    if (name === 'remove_from_cart' && params.item_id) cart.delete(params.item_id);
    if (name === 'purchase') params.items?.forEach((item) => cart.add(item.item_id));
  }
  return cart;
}
