/**
 * Product pages describe their product in schema.org JSON-LD for search engines
 * (`<script type="application/ld+json">`); reading it gives `view_item` with no markup work
 * for the shop. Only the page's own product counts: a top-level Product, one in `@graph` or a
 * top-level array, or a page's `mainEntity`. Products nested elsewhere (`isSimilarTo`,
 * `itemListElement` of a category page) are not what the shopper is viewing.
 */
import type { EventItem } from '@hunch/core';
import { logOnce } from '../lib/log.js';
import { addedRoots } from './dom.js';
import { guard, type Track } from './guard.js';

export interface JsonLdProduct {
  item: EventItem;
  currency?: string;
}

const SCRIPT_SELECTOR = 'script[type="application/ld+json" i]';
const PRODUCT_TYPES: ReadonlySet<string> = new Set(['Product', 'ProductGroup', 'ProductModel', 'IndividualProduct', 'SomeProducts']);
/** JSON-LD from a CMS can nest deeply; the page's product is near the top. */
const MAX_DEPTH = 6;

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** "Product", "schema:Product" and "https://schema.org/Product" are the same type. */
function isProduct(node: JsonObject): boolean {
  const types = ([] as unknown[]).concat(node['@type']);
  return types.some((type) => typeof type === 'string' && PRODUCT_TYPES.has(type.replace(/^.*[/:#]/, '')));
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed || undefined;
}

function number(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const raw = text(value);
  return raw !== undefined && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
}

/** `category` is text, a list of texts, or a Thing with a name. */
function category(value: unknown): string | undefined {
  if (Array.isArray(value)) return category(value[0]);
  return isObject(value) ? text(value.name) : text(value);
}

/** The first offer's price and currency (`offers` may be one Offer, an array, or an AggregateOffer). */
function offer(value: unknown): { price?: number; currency?: string } {
  const first = Array.isArray(value) ? value.find(isObject) : value;
  if (!isObject(first)) return {};
  const spec = Array.isArray(first.priceSpecification) ? first.priceSpecification[0] : first.priceSpecification;
  const price = number(first.price) ?? number(first.lowPrice) ?? (isObject(spec) ? number(spec.price) : undefined);
  const currency = text(first.priceCurrency) ?? (isObject(spec) ? text(spec.priceCurrency) : undefined);
  return { ...(price !== undefined ? { price } : {}), ...(currency ? { currency } : {}) };
}

function toProduct(node: JsonObject): JsonLdProduct | undefined {
  const id = text(node.sku) ?? text(node.productID) ?? text(node.productGroupID) ?? text(node['@id']);
  if (!id) return undefined;
  const item: EventItem = { item_id: id };
  const itemCategory = category(node.category);
  const { price, currency } = offer(node.offers);
  if (itemCategory) item.item_category = itemCategory;
  if (price !== undefined) item.price = price;
  return currency ? { item, currency } : { item };
}

function collect(node: unknown, out: JsonLdProduct[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (Array.isArray(node)) {
    for (const child of node) collect(child, out, depth + 1);
    return;
  }
  if (!isObject(node)) return;
  if (isProduct(node)) {
    const product = toProduct(node);
    if (product) out.push(product);
    return;
  }
  if (node['@graph'] !== undefined) collect(node['@graph'], out, depth + 1);
  if (node.mainEntity !== undefined) collect(node.mainEntity, out, depth + 1);
}

/** The products a JSON-LD text describes as the page's own. Throws on malformed JSON. */
export function productsInJsonLd(source: string): JsonLdProduct[] {
  const out: JsonLdProduct[] = [];
  collect(JSON.parse(source), out, 0);
  return out;
}

export interface JsonLdCapture {
  /** A new page view: its products may be tracked again; re-reads scripts changed since. */
  newPageView(): void;
  stop(): void;
}

/**
 * Tracks one `view_item` per product per page view, from the scripts present now and any
 * added later (SPAs inject JSON-LD after the route change), seen with a MutationObserver.
 */
export function captureJsonLd(doc: Document, track: Track): JsonLdCapture {
  const tracked = new Set<string>();
  // The text each script had when read: after a route change an SPA may leave the previous
  // product's script in place, and that product is not on screen any more.
  const read = new WeakMap<Element, string>();
  let rescan: ReturnType<typeof setTimeout> | undefined;

  const readScript = (script: Element): void => {
    const source = script.textContent ?? '';
    if (!source.trim() || read.get(script) === source) return; // empty: its text comes in a later mutation
    read.set(script, source);
    let products: JsonLdProduct[];
    try {
      products = productsInJsonLd(source);
    } catch (error) {
      logOnce('auto-capture: ignored malformed JSON-LD', error);
      return;
    }
    for (const { item, currency } of products) {
      if (tracked.has(item.item_id)) continue;
      tracked.add(item.item_id);
      track('view_item', {
        item_id: item.item_id,
        ...(item.item_category ? { item_category: item.item_category } : {}),
        items: [item],
        ...(item.price !== undefined ? { value: item.price } : {}),
        ...(currency ? { currency } : {}),
      });
    }
  };
  const scanAll = guard('JSON-LD scan', () => doc.querySelectorAll(SCRIPT_SELECTOR).forEach(readScript));

  // Started from a <script> in <head>: the parser may still be writing a script's text (in
  // chunks, which no observer reports), so everything is read once parsing is done.
  const loading = () => doc.readyState === 'loading';
  const observer = new MutationObserver(
    guard('JSON-LD observer', (records: MutationRecord[]) => {
      if (loading()) return;
      for (const record of records) {
        // textContent replaced on a script already in the page (a re-rendered <head>).
        if (record.target.nodeType === Node.ELEMENT_NODE && (record.target as Element).matches(SCRIPT_SELECTOR)) readScript(record.target as Element);
      }
      for (const root of addedRoots(records)) {
        if (root.matches(SCRIPT_SELECTOR)) readScript(root);
        else if (root.firstElementChild) root.querySelectorAll(SCRIPT_SELECTOR).forEach(readScript);
      }
    }),
  );
  observer.observe(doc, { childList: true, subtree: true });
  if (loading()) doc.addEventListener('DOMContentLoaded', scanAll, { once: true });
  else scanAll();

  return {
    newPageView() {
      tracked.clear();
      clearTimeout(rescan);
      // After the route's own code has run (not inside its pushState call).
      rescan = setTimeout(() => loading() || scanAll(), 0);
    },
    stop() {
      clearTimeout(rescan);
      observer.disconnect();
      doc.removeEventListener('DOMContentLoaded', scanAll);
    },
  };
}
