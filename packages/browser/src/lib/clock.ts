/**
 * Event timestamps: milliseconds since the epoch, strictly increasing within a page, so that
 * events tracked in the same millisecond keep their order wherever they are sorted by time
 * (IndexedDB's ts index would otherwise order ties by their random ids). A burst of n events
 * drifts at most n µs from the wall clock.
 */
let last = 0;

export function eventTime(now = Date.now()): number {
  last = now > last ? now : last + 0.001;
  return last;
}

/** Keeps later eventTime() values after `ts`: for events timed elsewhere (the script-tag loader's queue). */
export function noteEventTime(ts: number): void {
  if (ts > last) last = ts;
}
