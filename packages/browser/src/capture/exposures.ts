/**
 * Exposure: an `experience_impression` event (GA4's name) with the experiment's key and the
 * shopper's variant when the shopper actually sees the treatment, so that analysis counts only
 * exposed shoppers. Once per page view per experiment (a route change, seen by auto-capture,
 * starts a new one); with a target element only once it is viewable (viewable.ts), without one
 * at once; never for a shopper not enrolled. Declaratively, an element marked
 * `data-hunch-experiment="KEY"` is exposed whenever it is viewable (one page view each time).
 *
 * Exposures are not behaviour: the model, intent and sessions never read them (core's
 * isBehaviourEvent), so an experiment cannot change a prediction.
 */
import type { EXPOSURE_EVENT } from '@hunch/core';
import { attr, listIdOf } from './attributes.js';
import { addedRoots } from './dom.js';
import { guard, type Track } from './guard.js';
import { watchViewable } from './viewable.js';

export const EXPERIMENT_ATTR = 'data-hunch-experiment';
const EXPERIMENT_SELECTOR = `[${EXPERIMENT_ATTR}]`;
const EXPOSURE: typeof EXPOSURE_EVENT = 'experience_impression';

export interface Exposures {
  /**
   * hunch.expose(): logs the exposure of experiment `key` now, or once `target` is viewable;
   * `listId` (default: the target's data-hunch-list, if it is in one) becomes item_list_id.
   */
  expose(key: string, target?: Element | null, listId?: string): void;
  /** A route change: every experiment may be exposed again, and elements in view count again after their second. */
  newPageView(): void;
  /** Exposes `[data-hunch-experiment]` elements of `doc` when viewable, now and when added later; returns the function that stops. */
  watchMarkup(doc: Document): () => void;
}

/** `variantOf(key)`: the variant to expose (null or undefined: none); `track` records the event. */
export function createExposures(variantOf: (key: string) => string | null | undefined, track: Track): Exposures {
  const exposed = new Set<string>(); // experiments exposed in this page view
  const targets = new Map<Element, Map<string, string | undefined>>(); // expose() calls waiting for their element
  let viewable: ReturnType<typeof watchViewable> | undefined; // one observer for every target, made on first need

  const log = guard('exposure', (key: string, listId: string | undefined) => {
    const variant = variantOf(key);
    if (variant == null || exposed.has(key)) return;
    exposed.add(key);
    track(EXPOSURE, { experiment_id: key, variant_id: variant, ...(listId ? { item_list_id: listId } : {}) });
  });

  const watcher = (doc: Document) => (viewable ??= watchViewable(doc, onViewable));
  const onViewable = (element: Element) => {
    const waiting = targets.get(element);
    targets.delete(element);
    waiting?.forEach((listId, key) => log(key, listId));
    const key = attr(element, EXPERIMENT_ATTR);
    if (key) log(key, listIdOf(element));
    else viewable!.unobserve(element);
  };

  return {
    expose(key, target, listId) {
      if (!target) return log(key, listId);
      if (variantOf(key) === null) return; // not enrolled: nothing to wait for
      listId ??= listIdOf(target);
      const waiting = targets.get(target) ?? new Map<string, string | undefined>();
      targets.set(target, waiting.set(key, listId));
      // Observed afresh, so that an element already observed (markup) and in view reports again.
      const watch = watcher(target.ownerDocument);
      watch.unobserve(target);
      watch.observe(target);
    },
    newPageView() {
      exposed.clear();
      viewable?.restart();
    },
    watchMarkup(doc) {
      const watch = watcher(doc);
      const scan = (root: Element | Document) => {
        if (root instanceof Element && root.matches(EXPERIMENT_SELECTOR)) watch.observe(root);
        root.querySelectorAll(EXPERIMENT_SELECTOR).forEach(watch.observe);
      };
      const mutations = new MutationObserver(
        guard('exposure observer', (records: MutationRecord[]) => {
          for (const record of records) if (record.type === 'attributes') scan(record.target as Element);
          addedRoots(records).forEach(scan);
        }),
      );
      mutations.observe(doc, { childList: true, subtree: true, attributes: true, attributeFilter: [EXPERIMENT_ATTR] });
      scan(doc);
      return () => {
        mutations.disconnect();
        watch.stop();
        viewable = undefined;
      };
    },
  };
}
