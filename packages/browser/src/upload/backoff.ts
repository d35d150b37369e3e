/**
 * When to try an upload again. Full jitter (a uniform delay up to the exponential bound)
 * spreads the retries of many shoppers' tabs after a collector outage, instead of having
 * them all come back at the same instant.
 */

export interface BackoffOptions {
  /** Bound of the first retry (ms). */
  baseMs: number;
  /** Largest bound (ms). */
  capMs: number;
}

/** Delay before retry number `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt: number, { baseMs, capMs }: BackoffOptions, random: () => number): number {
  const bound = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * bound);
}

/** The longest Retry-After we wait for; anything beyond is a misconfigured collector. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** Retry-After as ms from now: either delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
