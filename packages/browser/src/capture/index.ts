/**
 * Declarative auto-capture: shops mark up their pages and Hunch records the GA4 retail
 * events itself, with no `track()` calls. Everything is opt-in markup except page views and
 * schema.org JSON-LD, which most shops already have. The markup and what each event records
 * are specified once, in README.md ("Capturing behaviour"); each capture lives in its module.
 *
 *   const stop = startAutoCapture((name, params) => hunch.track(name, params));
 *
 * Cost on the page: one delegated click and one submit listener on the document (capture
 * phase, passive), two IntersectionObservers, three MutationObservers, History wrappers; no
 * per-element listeners. Nothing here throws into the page: failures are logged once.
 */
import type { EventName, EventParams } from '@hunch/core';
import { captureClicks } from './clicks.js';
import type { Exposures } from './exposures.js';
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
  /** `experience_impression` when a `data-hunch-experiment` element is viewable (default true). */
  exposures?: boolean;
}

/**
 * Starts capturing and returns `stop`, which sends impressions already counted, then removes
 * every listener and observer and restores `history.pushState`/`replaceState` (unless another
 * script wrapped them after us; then ours stay, inert). `exposures`: the instance's expose(),
 * told of route changes and fed the page's `data-hunch-experiment` elements.
 */
export function startAutoCapture(track: (name: EventName, params: EventParams) => unknown, options: AutoCaptureOptions = {}, exposures?: Exposures): () => void {
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
  if (exposures && on(options.exposures)) add(attempt('exposures', () => exposures.watchMarkup(doc)));

  // Route changes are followed even without page_view events: impressions and product views
  // are counted per page view either way.
  add(
    attempt('route changes', () =>
      watchRoutes(win, (path) => {
        impressions?.newPageView(); // the old page's impressions go out before the new page_view
        exposures?.newPageView();
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
