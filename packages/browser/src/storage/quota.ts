/** A full disk: recognising it however the browser reports it, and waiting out its bookkeeping. */

const QUOTA_EXCEEDED_ERR = 22; // the legacy DOMException code, still set by every browser

/**
 * True for a QuotaExceededError, also when it arrives wrapped: as a transaction's AbortError
 * whose cause or message is the quota, or as Firefox's NS_ERROR_DOM_QUOTA_ERR.
 */
export function isQuotaError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const { name, code, message, cause } = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_ERR' || code === QUOTA_EXCEEDED_ERR) return true;
    if (name === 'AbortError' && typeof message === 'string' && /quota/i.test(message)) return true;
    current = cause;
  }
  return false;
}

/** "QuotaExceededError" rather than an empty line: browsers often leave the message blank. */
export function describeError(error: unknown): string {
  if (!error || typeof error !== 'object') return String(error);
  const { name, message } = error as { name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  return typeof name === 'string' && name !== 'Error' ? (text ? `${name}: ${text}` : name) : text;
}

/**
 * Chromium updates an origin's usage after a commit, asynchronously: a retry right after the
 * eviction can still be refused. Asking for an estimate waits for the quota system to catch up.
 */
export async function usageSettled(): Promise<void> {
  try {
    await navigator.storage?.estimate?.();
  } catch {
    // no StorageManager: nothing to wait for
  }
}
