/**
 * The `data-hunch-*` vocabulary (specified in README.md, "Capturing behaviour") and how an element's product is
 * read from it. Attributes are read at the moment of the event, never cached, so a
 * re-rendered element always reports what it shows now.
 */
import type { EventItem } from '@hunch/core';

export const ITEM_ATTR = 'data-hunch-item';
export const CATEGORY_ATTR = 'data-hunch-category';
export const PRICE_ATTR = 'data-hunch-price';
export const CURRENCY_ATTR = 'data-hunch-currency';
export const QUANTITY_ATTR = 'data-hunch-quantity';
export const LIST_ATTR = 'data-hunch-list';
export const ACTION_ATTR = 'data-hunch-action';
export const SEARCH_ATTR = 'data-hunch-search';

export const ITEM_SELECTOR = `[${ITEM_ATTR}]`;
export const LIST_SELECTOR = `[${LIST_ATTR}]`;

/** A trimmed attribute value; empty counts as absent. */
export function attr(element: Element, name: string): string | undefined {
  const value = element.getAttribute(name)?.trim();
  return value ? value : undefined;
}

/** Plain decimal numbers only ("19.99"): a formatted "€19,99" is ambiguous, so it is dropped. */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The product an element stands for, from its own attributes; undefined without an id. */
export function readItem(element: Element): EventItem | undefined {
  const itemId = attr(element, ITEM_ATTR);
  if (!itemId) return undefined;
  const item: EventItem = { item_id: itemId };
  const category = attr(element, CATEGORY_ATTR);
  const price = parseNumber(attr(element, PRICE_ATTR));
  if (category) item.item_category = category;
  if (price !== undefined) item.price = price;
  return item;
}

/** The list an item element belongs to, with its id; undefined outside any list. */
export function listIdOf(itemElement: Element): string | undefined {
  const list = itemElement.closest(LIST_SELECTOR);
  return list ? attr(list, LIST_ATTR) : undefined;
}

/**
 * `data-hunch-quantity` is a positive integer ("2"), or a selector of the quantity input
 * beside the button ("#qty"), read when clicked: that is where shops keep the number.
 */
export function readQuantity(element: Element): number | undefined {
  const raw = attr(element, QUANTITY_ATTR);
  if (raw === undefined) return undefined;
  let text: string | undefined = raw;
  if (!/^\d+$/.test(raw)) {
    let input: Element | null = null;
    try {
      input = element.ownerDocument.querySelector(raw);
    } catch {
      return undefined; // not a valid selector: ignore it rather than break the click
    }
    text = input && 'value' in input ? String(input.value).trim() : undefined;
  }
  const quantity = text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
  return quantity && quantity > 0 ? quantity : undefined;
}
