/**
 * The viewability rule, in one place: an element counts as seen when at least 50% of it is in
 * the viewport for at least one continuous second, in a visible tab (the IAB/MRC rule for
 * display). Impressions (impressions.ts) and experiment exposures (exposures.ts) both use it.
 * An element with no area (an empty, collapsed box) counts as fully in view while it touches
 * the viewport: IntersectionObserver gives such a target a ratio of 1.
 *
 * Cost: one IntersectionObserver per watcher (the browser computes visibility while
 * rendering; no scroll listeners or layout reads), and a timer only for elements in view.
 */
import { guard } from './guard.js';

const VISIBLE_RATIO = 0.5;
const DWELL_MS = 1000;

export interface Viewability {
  observe(element: Element): void;
  unobserve(element: Element): void;
  /** Starts the second again for everything in view now (a new page view). */
  restart(): void;
  /** Removes the observer, listener and timers. */
  stop(): void;
}

/** Calls `onViewable(element)` each time an observed element becomes viewable (again after leaving the view). */
export function watchViewable(doc: Document, onViewable: (element: Element) => void): Viewability {
  const win = doc.defaultView ?? window;
  const inView = new Set<Element>(); // ≥ 50% in the viewport now
  const dwell = new Map<Element, ReturnType<typeof setTimeout>>();

  const start = (element: Element): void => {
    if (dwell.has(element) || doc.visibilityState !== 'visible') return;
    dwell.set(
      element,
      setTimeout(
        guard('viewability', () => {
          dwell.delete(element);
          onViewable(element);
        }),
        DWELL_MS,
      ),
    );
  };
  const halt = (element: Element): void => {
    clearTimeout(dwell.get(element));
    dwell.delete(element);
  };
  const haltAll = () => [...dwell.keys()].forEach(halt);

  const intersections = new win.IntersectionObserver(
    guard('viewability', (entries: IntersectionObserverEntry[]) => {
      for (const { target, isIntersecting, intersectionRatio } of entries) {
        if (isIntersecting && intersectionRatio >= VISIBLE_RATIO) {
          inView.add(target);
          start(target);
        } else {
          inView.delete(target);
          halt(target); // the second must be continuous
        }
      }
    }),
    { threshold: [VISIBLE_RATIO] },
  );
  // A hidden tab shows nothing: running seconds stop, and restart from zero when visible again.
  const onVisibility = guard('viewability', () => (doc.visibilityState === 'visible' ? inView.forEach(start) : haltAll()));
  doc.addEventListener('visibilitychange', onVisibility);

  return {
    observe: (element) => intersections.observe(element),
    unobserve(element) {
      intersections.unobserve(element);
      inView.delete(element);
      halt(element);
    },
    restart() {
      haltAll();
      inView.forEach(start);
    },
    stop() {
      intersections.disconnect();
      haltAll();
      inView.clear();
      doc.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
