/**
 * One POST of one chunk, and what its answer means for the uploader. Never throws: every
 * failure is an outcome.
 */
import { parseUploadResponse, type UploadResponse } from '@hunch/core';
import { parseRetryAfter } from './backoff.js';

export type SendOutcome =
  /** The collector answered with ids (2xx, or a 4xx that still names accepted/rejected ids). */
  | { kind: 'answered'; status: number; response: UploadResponse }
  /** Network error, timeout, 5xx or 429: try again later. */
  | { kind: 'retry'; status: number | undefined; retryAfterMs: number | undefined; error: string }
  /** 413: the body is too large for this collector. */
  | { kind: 'too-large' }
  /** Any other answer: sending again would fail again. */
  | { kind: 'fatal'; status: number; error: string };

export interface SendDeps {
  fetch: typeof fetch;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  now: () => number;
}

async function readAnswer(response: Response): Promise<UploadResponse | undefined> {
  try {
    const parsed = parseUploadResponse(await response.json());
    return parsed.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  }
}

export async function sendChunk(url: string, body: string, timeoutMs: number, deps: SendDeps): Promise<SendOutcome> {
  const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
  // A collector that never answers would otherwise hold the upload lock forever.
  const timer = deps.setTimeout(() => abort?.abort(), timeoutMs);
  try {
    let response: Response;
    try {
      response = await deps.fetch(url, {
        method: 'POST',
        keepalive: true,
        headers: { 'content-type': 'application/json' },
        body,
        signal: abort?.signal ?? null,
        // The collector learns events, never the shopper's cookies.
        credentials: 'omit',
      });
    } catch (error) {
      return { kind: 'retry', status: undefined, retryAfterMs: undefined, error: error instanceof Error ? error.message : String(error) };
    }
    const { status } = response;
    if (status === 413) return { kind: 'too-large' };
    if (status === 429 || status >= 500) {
      return { kind: 'retry', status, retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), deps.now()), error: `HTTP ${status}` };
    }
    const answer = await readAnswer(response);
    if (status >= 200 && status < 300) {
      // A 2xx without a readable answer confirms nothing: the events are resent later.
      return { kind: 'answered', status, response: answer ?? { accepted: [], rejected: [] } };
    }
    if (answer && (answer.accepted.length > 0 || answer.rejected.length > 0)) return { kind: 'answered', status, response: answer };
    return { kind: 'fatal', status, error: `HTTP ${status}` };
  } finally {
    deps.clearTimeout(timer);
  }
}
