/**
 * Auto-capture runs inside the shop's own event handlers and History calls, so nothing in
 * it may ever throw into the page: every handler is wrapped, and failures are logged once
 * per kind (a broken handler on a busy page must not flood the console).
 */
import type { EventName, EventParams } from '@hunch/core';
import { logOnce } from '../lib/log.js';

/** Where captured events go: the SDK's `track` (its return value is ignored). */
export type Track = (name: EventName, params: EventParams) => unknown;

/** `fn` with any exception caught and logged once under `kind`. */
export function guard<A extends unknown[]>(kind: string, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (error) {
      logOnce(`auto-capture: ${kind} failed`, error);
    }
  };
}

/** Runs a capture's setup; when it fails (e.g. a browser without IntersectionObserver), logs once and gives undefined. */
export function attempt<T>(kind: string, start: () => T): T | undefined {
  try {
    return start();
  } catch (error) {
    logOnce(`auto-capture: ${kind} unavailable`, error);
    return undefined;
  }
}

/** A `track` that never throws, even when the one given to us does. */
export function safeTrack(track: Track): Track {
  return (name, params) => {
    try {
      return track(name, params);
    } catch (error) {
      logOnce(`auto-capture: track(${name}) failed`, error);
      return undefined;
    }
  };
}
