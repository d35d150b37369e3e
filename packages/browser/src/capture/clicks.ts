/**
 * One delegated click listener on the document (capture phase, so a shop handler that stops
 * propagation cannot hide the click; passive, so scrolling and taps are never delayed) turns
 * clicks into `select_item` and cart/checkout events. No per-element listeners: items added
 * later need no wiring.
 */
import type { EventName, EventParams } from '@hunch/core';
import { logOnce } from '../lib/log.js';
import { ACTION_ATTR, CURRENCY_ATTR, ITEM_SELECTOR, attr, listIdOf, readItem, readQuantity } from './attributes.js';
import { elementOf } from './dom.js';
import { guard, type Track } from './guard.js';

const ACTIONS: ReadonlySet<string> = new Set<EventName>(['add_to_cart', 'remove_from_cart', 'view_cart', 'begin_checkout']);
/** These are about one product, so their button must name one. */
const NEEDS_ITEM: ReadonlySet<string> = new Set<EventName>(['add_to_cart', 'remove_from_cart']);

/** The action's product (the element's own, or its closest item ancestor's), if it has one. */
function actionParams(actionElement: Element): EventParams {
  const itemElement = actionElement.closest(ITEM_SELECTOR);
  const item = itemElement ? readItem(itemElement) : undefined;
  if (!itemElement || !item) return {};
  const quantity = readQuantity(actionElement) ?? readQuantity(itemElement) ?? 1;
  const params: EventParams = { item_id: item.item_id, items: [{ ...item, quantity }] };
  if (item.item_category) params.item_category = item.item_category;
  const listId = listIdOf(itemElement);
  if (listId) params.item_list_id = listId;
  if (item.price !== undefined) params.value = Math.round(item.price * quantity * 100) / 100;
  const currency = attr(actionElement, CURRENCY_ATTR) ?? attr(itemElement, CURRENCY_ATTR);
  if (currency) params.currency = currency;
  return params;
}

function onClick(track: Track, event: Event): void {
  const element = elementOf(event.target);
  if (!element) return;

  // A button with an action is that action only: "add to cart" on a list tile is not a selection.
  const actionElement = element.closest(`[${ACTION_ATTR}]`);
  if (actionElement) {
    const action = attr(actionElement, ACTION_ATTR) ?? '';
    if (!ACTIONS.has(action)) {
      logOnce('auto-capture: unknown data-hunch-action', new Error(JSON.stringify(action)));
      return;
    }
    const params = actionParams(actionElement);
    if (NEEDS_ITEM.has(action) && !params.item_id) {
      logOnce(`auto-capture: ${action} button without data-hunch-item`, new Error('put data-hunch-item on the button or an ancestor'));
      return;
    }
    track(action as EventName, params);
    return;
  }

  const itemElement = element.closest(ITEM_SELECTOR);
  const item = itemElement ? readItem(itemElement) : undefined;
  const listId = itemElement ? listIdOf(itemElement) : undefined;
  if (!item || !listId) return; // a product outside any list (e.g. the product page itself) is no selection
  const params: EventParams = { item_id: item.item_id, item_list_id: listId };
  if (item.item_category) params.item_category = item.item_category;
  track('select_item', params);
}

/** Starts listening; returns the function that stops. */
export function captureClicks(doc: Document, track: Track): () => void {
  const listener = guard('click capture', (event: Event) => onClick(track, event));
  const options = { capture: true, passive: true } as const;
  doc.addEventListener('click', listener, options);
  return () => doc.removeEventListener('click', listener, options);
}
