/**
 * SPA route changes: single-page shops change the URL with the History API and never reload,
 * so page views are seen by wrapping `history.pushState`/`replaceState` and listening to
 * `popstate` (back/forward, and fragment navigation). Only a change of `location.pathname`
 * is a new page: a replaceState that rewrites the query (filters, sorting) or a new #hash is not.
 */
import { guard } from './guard.js';

type Method = 'pushState' | 'replaceState';

/**
 * Wraps `history[method]` to call `after` once the original has run. The returned function
 * restores the original, unless another script has wrapped ours since: then unwrapping would
 * drop theirs, so ours stays in place, inert (`isActive` turns false).
 */
function wrap(history: History, method: Method, after: () => void, isActive: () => boolean): () => void {
  const hadOwn = Object.prototype.hasOwnProperty.call(history, method);
  const original = history[method];
  const wrapped = function (this: History, ...args: Parameters<History['pushState']>): void {
    original.apply(this, args); // errors (e.g. a cross-origin URL) are the page's, rethrown as is
    if (isActive()) after();
  };
  history[method] = wrapped;
  return () => {
    if (history[method] !== wrapped) return;
    if (hadOwn) history[method] = original;
    else delete (history as Partial<Record<Method, unknown>>)[method]; // back to History.prototype's
  };
}

/**
 * Calls `onNewPath(pathname)` whenever the path changes (not for the current path at start).
 * Returns the function that stops watching and restores History's methods where it can.
 */
export function watchRoutes(win: Window, onNewPath: (path: string) => void): () => void {
  let active = true;
  let lastPath = win.location.pathname;
  const check = guard('route change', () => {
    const path = win.location.pathname;
    if (path === lastPath) return;
    lastPath = path;
    onNewPath(path);
  });
  const isActive = () => active;
  const restores = [wrap(win.history, 'pushState', check, isActive), wrap(win.history, 'replaceState', check, isActive)];
  win.addEventListener('popstate', check);
  return () => {
    active = false;
    win.removeEventListener('popstate', check);
    restores.forEach((restore) => restore());
  };
}
