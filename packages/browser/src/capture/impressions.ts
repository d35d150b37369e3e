/**
 * Impressions: a product in a `[data-hunch-list]` counts as seen once per (list, item, page
 * view), and only when it was actually viewable (viewable.ts: at least 50% of the element in
 * the viewport for at least one continuous second, in a visible tab). Counted items are
 * batched into one `view_item_list` per list, sent at most 500 ms after the first of them (or
 * at once at 25 items, or on pagehide / tab hidden), so scrolling a grid makes a few events,
 * not one per tile.
 *
 * Cost: one IntersectionObserver and a timer only for items in view (viewable.ts), and one
 * MutationObserver for items added or removed later (infinite scroll, re-renders).
 */
import type { EventItem } from '@hunch/core';
import { ITEM_ATTR, ITEM_SELECTOR, LIST_ATTR, LIST_SELECTOR, listIdOf, readItem } from './attributes.js';
import { addedRoots } from './dom.js';
import { guard, type Track } from './guard.js';
import { watchViewable } from './viewable.js';

const BATCH_MS = 500;
const MAX_BATCH = 25;
const ITEM_IN_LIST = `${LIST_SELECTOR} ${ITEM_SELECTOR}`;

export interface ImpressionCapture {
  /** Sends what is counted, then lets every item count again (restarting the one second). */
  newPageView(): void;
  /** Sends what is counted now. */
  flush(): void;
  /** Sends what is counted, then removes every observer, listener and timer. */
  stop(): void;
}

/**
 * `root` is the page's document, or the shadow root of a component that renders its own lists
 * (the <hunch-recommendations> element): its items are observed the same way.
 */
export function captureImpressions(root: Document | ShadowRoot, track: Track): ImpressionCapture {
  const doc = root.nodeType === Node.DOCUMENT_NODE ? (root as Document) : root.ownerDocument!;
  const win = doc.defaultView ?? window;
  const counted = new Set<string>(); // `${list}\n${item}` seen in this page view
  const batches = new Map<string, EventItem[]>();
  let batchTimer: ReturnType<typeof setTimeout> | undefined;

  const send = (listId: string, items: EventItem[]): void => {
    for (let start = 0; start < items.length; start += MAX_BATCH) {
      track('view_item_list', { item_list_id: listId, items: items.slice(start, start + MAX_BATCH) });
    }
  };
  const flush = guard('impression flush', () => {
    clearTimeout(batchTimer);
    batchTimer = undefined;
    const pending = [...batches];
    batches.clear();
    for (const [listId, items] of pending) send(listId, items);
  });

  const count = guard('impression', (element: Element) => {
    // Attributes are read now, not when first seen: a re-render may have changed them.
    const item = element.isConnected ? readItem(element) : undefined;
    const listId = item ? listIdOf(element) : undefined;
    if (!item || !listId) return;
    const key = `${listId}\n${item.item_id}`;
    if (counted.has(key)) return;
    counted.add(key);
    const batch = batches.get(listId) ?? [];
    batch.push(item);
    batches.set(listId, batch);
    if (batch.length >= MAX_BATCH) {
      batches.delete(listId);
      send(listId, batch);
    } else if (batchTimer === undefined) {
      batchTimer = setTimeout(flush, BATCH_MS);
    }
  });

  const viewable = watchViewable(doc, count);

  const forget = viewable.unobserve;
  /** (Re)considers one element: observed while it is a product inside a list, else forgotten. */
  const sync = (element: Element): void => {
    if (element.isConnected && element.matches(ITEM_IN_LIST)) viewable.observe(element);
    else forget(element);
  };
  const syncWithin = (root: Element): void => {
    if (root.hasAttribute(ITEM_ATTR)) sync(root);
    if (root.firstElementChild) root.querySelectorAll(ITEM_SELECTOR).forEach(sync);
  };

  const mutations = new MutationObserver(
    guard('impression observer', (records: MutationRecord[]) => {
      for (const record of records) {
        if (record.type === 'attributes') {
          // A new id on the same element is a new product: its second starts again.
          const target = record.target as Element;
          if (record.attributeName === ITEM_ATTR) forget(target);
          syncWithin(target);
          continue;
        }
        record.removedNodes.forEach((node) => {
          // Still connected means moved (removed and re-added): the added side handles it.
          if (node.nodeType !== Node.ELEMENT_NODE || node.isConnected) return;
          const element = node as Element;
          if (element.hasAttribute(ITEM_ATTR)) forget(element);
          element.querySelectorAll(ITEM_SELECTOR).forEach(forget);
        });
      }
      addedRoots(records).forEach(syncWithin);
    }),
  );
  mutations.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: [ITEM_ATTR, LIST_ATTR] });
  root.querySelectorAll(ITEM_IN_LIST).forEach(viewable.observe);

  // A hidden tab (where the second stops, viewable.ts) may never come back: what is counted is sent.
  const onVisibility = () => doc.visibilityState === 'hidden' && flush();
  doc.addEventListener('visibilitychange', onVisibility);
  win.addEventListener('pagehide', flush);

  return {
    newPageView() {
      flush();
      counted.clear();
      viewable.restart();
    },
    flush,
    stop() {
      flush();
      viewable.stop();
      mutations.disconnect();
      doc.removeEventListener('visibilitychange', onVisibility);
      win.removeEventListener('pagehide', flush);
    },
  };
}
