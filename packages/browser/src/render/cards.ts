/**
 * Product cards for a placement, built with DOM APIs only (text as textContent, never HTML),
 * so a title carrying markup or a script stays inert text. Each card carries the auto-capture
 * attributes (data-hunch-item inside a data-hunch-list named after the placement), so clicks
 * and viewable impressions are tracked by the same code as the shop's own lists.
 */
import type { CatalogItem } from '@hunch/core';
import { CATEGORY_ATTR, ITEM_ATTR, LIST_ATTR, PRICE_ATTR } from '../capture/attributes.js';
import { safeUrl } from './safe.js';

export interface Card {
  item: CatalogItem;
  reason?: string;
  source: 'model' | 'popular';
}

function part<K extends keyof HTMLElementTagNameMap>(tag: K, name: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.setAttribute('part', name);
  if (text !== undefined) element.textContent = text;
  return element;
}

function card({ item, reason, source }: Card, formatPrice: (price: number) => string): HTMLLIElement {
  const li = part('li', 'card');
  li.setAttribute(ITEM_ATTR, item.id);
  if (item.category) li.setAttribute(CATEGORY_ATTR, item.category);
  if (item.price !== undefined) li.setAttribute(PRICE_ATTR, String(item.price));
  li.dataset.source = source;
  const href = safeUrl(item.url);
  // Without a safe URL the card is still shown, as text: never a javascript: link.
  const link = href ? part('a', 'link') : part('div', 'link');
  if (link instanceof HTMLAnchorElement) link.href = href!;
  const image = safeUrl(item.image);
  if (image) {
    const img = part('img', 'image');
    img.src = image;
    img.alt = ''; // decorative: the title right below names the product
    img.loading = 'lazy';
    img.decoding = 'async';
    link.append(img);
  }
  link.append(part('span', 'title', item.title));
  if (item.price !== undefined) link.append(part('span', 'price', formatPrice(item.price)));
  if (reason) link.append(part('span', 'reason', reason));
  li.append(link);
  return li;
}

/**
 * Price formatters by currency ('' for none), made on first use: the first Intl.NumberFormat
 * of a page loads the locale's number data, 55-120 ms of main thread in Chromium here (the
 * one long task Hunch caused on a first visit), so placeholders and priceless cards never
 * make one, and each is made once.
 */
const formatters = new Map<string, Intl.NumberFormat>();
export function formatPrice(price: number, currency: string | undefined): string {
  let format = formatters.get(currency ?? '');
  if (!format) {
    format = currency ? new Intl.NumberFormat(undefined, { style: 'currency', currency }) : new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    formatters.set(currency ?? '', format);
  }
  return format.format(price);
}

/**
 * Replaces `root`'s list with these cards (placeholders when `cards` is undefined; `blank`: the
 * placeholders' box with nothing visible in it, hidden from assistive technology too).
 */
export function renderCards(
  root: ShadowRoot,
  { placement, label, cards, limit, currency, blank }: { placement: string; label: string; cards: Card[] | undefined; limit: number; currency?: string; blank?: boolean | undefined },
): void {
  const list = part('ul', 'list');
  list.setAttribute(LIST_ATTR, placement);
  list.setAttribute('aria-label', label);
  list.setAttribute('role', 'list');
  if (cards) {
    for (const entry of cards) list.append(card(entry, (price) => formatPrice(price, currency)));
  } else {
    list.setAttribute(blank ? 'aria-hidden' : 'aria-busy', 'true');
    for (let i = 0; i < limit; i++) list.append(part('li', 'placeholder'));
  }
  root.querySelector('[part~="list"]')?.remove();
  root.append(list);
}
