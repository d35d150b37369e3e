/**
 * Declarative auto-capture: shops mark up their pages and Hunch records the GA4 retail
 * events itself, with no `track()` calls. Everything is opt-in markup except page views and
 * schema.org JSON-LD, which most shops already have.
 *
 * ## Attribute vocabulary
 *
 * | markup | on | meaning |
 * | --- | --- | --- |
 * | `data-hunch-item="ID"` | any element | this element shows product ID |
 * | `data-hunch-category="C"` | the item element | its category |
 * | `data-hunch-price="19.99"` | the item element | its unit price (plain decimal) |
 * | `data-hunch-currency="EUR"` | the item or action element | ISO 4217 currency of the price |
 * | `data-hunch-list="LIST_ID"` | a container | the items inside form the list LIST_ID (a placement: "search-results", "home-recs") |
 * | `data-hunch-action="ACTION"` | a button or link | `add_to_cart`, `remove_from_cart`, `view_cart` or `begin_checkout` |
 * | `data-hunch-quantity="2"` or `="#qty"` | the action or item element | quantity, or a selector of the input holding it (default 1) |
 * | `data-hunch-search` | a `<form>` | a site search form (so are `form[role="search"]` and forms inside `[role="search"]` or `<search>`) |
 * | `data-hunch-search-input` | an input in it | the query field (default: `input[type="search"]`, then `name="q"`, `"query"`, `"search"`, `"s"`) |
 *
 * ## What is recorded
 *
 * - `page_view` { page_path } at start and whenever an SPA changes `location.pathname`
 *   (pushState/replaceState/back/forward). Never the query string or hash: they can carry
 *   personal data.
 * - `view_item` from each schema.org `Product` in `<script type="application/ld+json">`
 *   (top level, in `@graph`, in a top-level array, or a page's `mainEntity`; id = `sku`, else
 *   `productID`, else `@id`; `category`; `offers.price`/`priceCurrency`): once per product per
 *   page view, including scripts an SPA injects after the route change. Malformed JSON is
 *   ignored with one console warning.
 * - `select_item` { item_id, item_category, item_list_id } on a click on an item element, or on
 *   anything inside it, within a `data-hunch-list`.
 * - the `data-hunch-action` event on a click on that element or inside it, for the product on
 *   the element itself or its closest `data-hunch-item` ancestor (`item_id`, `item_category`,
 *   `item_list_id` when in a list, `items: [{ ..., quantity }]`, `value` = price × quantity,
 *   `currency`). An action click is not also a `select_item`.
 * - `search` { search_term } on submit of a search form, trimmed (empty queries are ignored).
 *   Other forms are never read.
 * - `view_item_list` { item_list_id, items } for items of a list seen by the IAB viewability
 *   rule (≥ 50% of the element in view for ≥ 1 s, tab visible), once per list, item and page
 *   view; batched per list (≤ 500 ms, ≤ 25 items per event, flushed on pagehide). Items added
 *   later (infinite scroll) are seen too.
 *
 *   const stop = startAutoCapture((name, params) => hunch.track(name, params));
 *
 * Cost on the page: one delegated click and one submit listener on the document (capture
 * phase, passive), one IntersectionObserver, two MutationObservers, History wrappers; no
 * per-element listeners. Nothing here throws into the page: failures are logged once.
 */
import type { EventName, EventParams } from '@hunch/core';
import { captureClicks } from './clicks.js';
import { attempt, guard, safeTrack } from './guard.js';
import { watchRoutes } from './history.js';
import { captureImpressions } from './impressions.js';
import { captureJsonLd } from './json-ld.js';
import { captureSearch } from './search.js';

export { productsInJsonLd, type JsonLdProduct } from './json-ld.js';

export interface AutoCaptureOptions {
  /** The document to capture in (default: `document`). */
  root?: Document;
  /** `page_view` at start and on SPA route changes (default true). */
  pageViews?: boolean;
  /** `view_item` from schema.org Product JSON-LD (default true). */
  jsonLd?: boolean;
  /** `select_item` and `data-hunch-action` clicks (default true). */
  clicks?: boolean;
  /** `search` from search forms (default true). */
  search?: boolean;
  /** `view_item_list` impressions of list items (default true). */
  impressions?: boolean;
}

/**
 * Starts capturing and returns `stop`, which sends impressions already counted, then removes
 * every listener and observer and restores `history.pushState`/`replaceState` (unless another
 * script wrapped them after us; then ours stay, inert).
 */
export function startAutoCapture(track: (name: EventName, params: EventParams) => unknown, options: AutoCaptureOptions = {}): () => void {
  const doc = options.root ?? document;
  const win = doc.defaultView ?? window;
  const emit = safeTrack(track);
  const stops: Array<() => void> = [];
  const on = (flag: boolean | undefined) => flag !== false;

  const pageView = (path: string) => {
    if (on(options.pageViews)) emit('page_view', { page_path: path });
  };
  // Each part starts on its own: one the browser cannot run leaves the others working.
  const add = (stop: (() => void) | undefined) => void (stop && stops.push(stop));
  pageView(win.location.pathname);
  const jsonLd = on(options.jsonLd) ? attempt('JSON-LD', () => captureJsonLd(doc, emit)) : undefined;
  const impressions = on(options.impressions) ? attempt('impressions', () => captureImpressions(doc, emit)) : undefined;
  add(jsonLd?.stop);
  add(impressions?.stop);
  if (on(options.clicks)) add(attempt('clicks', () => captureClicks(doc, emit)));
  if (on(options.search)) add(attempt('search', () => captureSearch(doc, emit)));

  // Route changes are followed even without page_view events: impressions and product views
  // are counted per page view either way.
  add(
    attempt('route changes', () =>
      watchRoutes(win, (path) => {
        impressions?.newPageView(); // the old page's impressions go out before the new page_view
        pageView(path);
        jsonLd?.newPageView();
      }),
    ),
  );

  let stopped = false;
  return guard('stop', () => {
    if (stopped) return;
    stopped = true;
    // Reverse order: the History wrappers go first, so nothing starts a page view mid-stop.
    for (const stop of stops.reverse()) guard('stop', stop)();
  });
}
