/**
 * Sends the store's outbox to the shop's collector (off unless a collector URL is configured,
 * and only while consent allows 'upload'). An event leaves the outbox only when the collector
 * answered its id as accepted or rejected; everything else is sent again later, which is
 * harmless because ids are stable. Never throws into the page.
 */
import { chunkEvents, MAX_UPLOAD_BYTES, scrubParams, type HunchEvent, type UploadChunk } from '@hunch/core';
import type { ConsentPurpose } from '../consent.js';
import { logOnce } from '../lib/log.js';
import type { EventStore } from '../storage/types.js';
import { backoffDelay } from './backoff.js';
import { sendChunk, type SendDeps } from './send.js';

export interface UploaderOptions {
  /** The collector endpoint (see @hunch/core upload.ts for the protocol). */
  url: string;
  store: EventStore | Promise<EventStore>;
  /** Without one, upload is allowed (the shop decided by configuring a collector). */
  consent?: { allows(purpose: ConsentPurpose): boolean; subscribe(listener: () => void): () => void };
  /**
   * The anonymous shopper id to add to each event sent (not to what is stored): read at send
   * time, so after forget() or a withdrawal there is none. Default none.
   */
  shopperId?: () => string | undefined;
  /** An upload starts at most this long after an event is added (default 5 s): batches a burst of events. */
  debounceMs?: number;
  /** Upload at once when this many events were added since the last upload (default 50). */
  eagerCount?: number;
  /** Events read from the outbox per round (default 500). */
  batchLimit?: number;
  /** Largest request body in UTF-8 bytes (default and maximum MAX_UPLOAD_BYTES). */
  maxBytes?: number;
  /** Backoff bound of the first retry (default 1 s) and the largest bound (default 5 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A request that has not answered by then counts as a network error (default 30 s). */
  requestTimeoutMs?: number;
  /** Injected for tests; the real ones by default. */
  fetch?: typeof fetch;
  sendBeacon?: ((url: string, body: string) => boolean) | null;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  random?: () => number;
  now?: () => number;
  /** Web Locks, so only one tab uploads at a time; null to skip. Default navigator.locks. */
  locks?: Pick<LockManager, 'request'> | null;
  /** Where pagehide and visibilitychange are heard; null to not listen. Default window/document. */
  window?: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
  document?: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'> | null;
}

export type UploadStatus = 'done' | 'retrying' | 'stopped' | 'denied' | 'busy' | 'error';

export interface UploadReport {
  status: UploadStatus;
  /** Ids removed from the outbox by this run (accepted, rejected or unsendable). */
  acknowledged: number;
}

export interface Uploader {
  /** Tells the uploader events were queued; with the events, they can also go out in a beacon on page hide. */
  added(events?: readonly HunchEvent[]): void;
  /** Uploads now (ignoring debounce and backoff) and reports how it went; never rejects. */
  flush(): Promise<UploadReport>;
  /** Sends what is known to be queued with navigator.sendBeacon (what page hide does). */
  beacon(): void;
  /**
   * forget(): drops what it knows of queued events and cancels the next run, so that nothing
   * queued before is sent, by a beacon or by a run already under way. Events added later are
   * uploaded as usual (when consent allows).
   */
  forget(): void;
  /** Stops timers and listeners. */
  stop(): void;
}

/** Events remembered for beacons: enough for a page's worth of browsing. */
const MAX_KNOWN = 2000;

function defaultBeacon(): UploaderOptions['sendBeacon'] {
  const nav = globalThis.navigator;
  return typeof nav?.sendBeacon === 'function' ? (url, body) => nav.sendBeacon(url, body) : null;
}

export function createUploader(options: UploaderOptions): Uploader {
  const deps: SendDeps = {
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    setTimeout: options.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms)),
    clearTimeout: options.clearTimeout ?? ((handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>)),
    now: options.now ?? Date.now,
  };
  const random = options.random ?? Math.random;
  const debounceMs = options.debounceMs ?? 5000;
  const eagerCount = options.eagerCount ?? 50;
  const batchLimit = options.batchLimit ?? 500;
  const maxBytes = Math.min(options.maxBytes ?? MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES);
  const backoff = { baseMs: options.baseDelayMs ?? 1000, capMs: options.maxDelayMs ?? 5 * 60 * 1000 };
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const sendBeacon = options.sendBeacon === undefined ? defaultBeacon() : options.sendBeacon;
  const locks = options.locks === undefined ? (globalThis.navigator?.locks ?? null) : options.locks;
  const win = options.window === undefined ? (typeof window === 'undefined' ? null : window) : options.window;
  const doc = options.document === undefined ? (typeof document === 'undefined' ? null : document) : options.document;
  const store = Promise.resolve(options.store);
  /** What is sent of a stored event: scrubbed again, with the shopper's id when there is one. */
  const outgoing = (events: readonly HunchEvent[]): HunchEvent[] => {
    const shopperId = options.shopperId?.();
    return events.map((event) => ({ ...event, params: scrubParams(event.name, event.params), ...(shopperId ? { shopperId } : {}) }));
  };

  let stopped = false; // a fatal answer or stop(): no more uploads from this page
  let timer: unknown;
  let timerDue = Infinity;
  let retryNotBefore = 0;
  let attempt = 0;
  let addedSinceRun = 0;
  let running: Promise<UploadReport> | undefined;
  /** Bumped by forget(): a run that read the outbox before sends none of it. */
  let forgets = 0;
  /** Events believed to be in the outbox, oldest first, for synchronous beacons. */
  const known = new Map<string, HunchEvent>();
  /** Ids already beaconed since the page was last visible: pagehide follows visibilitychange. */
  const beaconed = new Set<string>();

  const allowsUpload = () => {
    try {
      return options.consent ? options.consent.allows('upload') : true;
    } catch {
      return false;
    }
  };

  function remember(events: readonly HunchEvent[]): void {
    for (const event of events) {
      known.delete(event.id);
      known.set(event.id, event);
    }
    for (const id of known.keys()) {
      if (known.size <= MAX_KNOWN) break;
      known.delete(id);
    }
  }

  async function acknowledge(ids: readonly string[], settled?: Set<string>): Promise<void> {
    if (ids.length === 0) return;
    ids.forEach((id) => settled?.add(id));
    await (await store).acknowledge(ids);
    for (const id of ids) known.delete(id);
  }

  function cancelTimer(): void {
    if (timer !== undefined) deps.clearTimeout(timer);
    timer = undefined;
    timerDue = Infinity;
  }

  /** Runs an upload after delayMs, unless one is due sooner; never before a backoff ends. */
  function schedule(delayMs: number): void {
    if (stopped || !allowsUpload()) return;
    const now = deps.now();
    const due = Math.max(now + delayMs, retryNotBefore);
    if (timer !== undefined && timerDue <= due) return;
    cancelTimer();
    timerDue = due;
    timer = deps.setTimeout(() => {
      timer = undefined;
      timerDue = Infinity;
      void flush();
    }, due - now);
  }

  function retryLater(retryAfterMs: number | undefined): UploadReport['status'] {
    // Never sooner than the collector's Retry-After; never sooner than our backoff either,
    // so a collector answering "Retry-After: 0" in a loop is not hammered.
    const delay = Math.max(retryAfterMs ?? 0, backoffDelay(attempt, backoff, random));
    attempt++;
    retryNotBefore = deps.now() + delay;
    cancelTimer();
    schedule(delay);
    return 'retrying';
  }

  /** Splits a chunk the collector found too large into two halves, each re-packed. */
  function split(chunk: UploadChunk, byId: Map<string, HunchEvent>): UploadChunk[] {
    const events = chunk.ids.map((id) => byId.get(id)!);
    const half = Math.ceil(events.length / 2);
    return [events.slice(0, half), events.slice(half)].flatMap((part) => chunkEvents(part, maxBytes, deps.now()).chunks);
  }

  /** Sends the outbox until it is empty, consent is withdrawn, or the collector says wait/stop. */
  async function drain(): Promise<UploadReport> {
    let acknowledged = 0;
    const report = (status: UploadStatus): UploadReport => ({ status, acknowledged });
    // Ids this run already settled: a store whose acknowledge() failed must not make us loop.
    const settled = new Set<string>();
    const forgetsBefore = forgets;
    const forgotten = () => forgets !== forgetsBefore;
    for (;;) {
      if (stopped) return report('stopped');
      if (!allowsUpload() || forgotten()) return report('denied');
      const outbox = (await (await store).outbox(batchLimit)).filter((event) => !settled.has(event.id));
      if (outbox.length === 0) return report('done');
      remember(outbox);
      const events = outgoing(outbox);
      const byId = new Map(events.map((event) => [event.id, event]));
      const { chunks, oversized } = chunkEvents(events, maxBytes, deps.now());
      if (oversized.length > 0) {
        logOnce('events too large to upload were dropped', new Error(`${oversized.length} over ${maxBytes} bytes`));
        await acknowledge(oversized.map((event) => event.id), settled);
        acknowledged += oversized.length;
      }
      const queue = [...chunks];
      for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
        if (stopped) return report('stopped');
        if (!allowsUpload() || forgotten()) return report('denied');
        const outcome = await sendChunk(options.url, chunk.body, requestTimeoutMs, deps);
        if (outcome.kind === 'retry') {
          logOnce('upload failed, will retry', new Error(outcome.error));
          return report(retryLater(outcome.retryAfterMs));
        }
        if (outcome.kind === 'fatal') {
          logOnce('upload refused, stopped', new Error(outcome.error));
          stopped = true;
          cancelTimer();
          return report('stopped');
        }
        if (outcome.kind === 'too-large') {
          if (chunk.ids.length > 1) {
            queue.unshift(...split(chunk, byId));
            continue;
          }
          logOnce('an event too large for the collector was dropped', new Error('HTTP 413'));
          await acknowledge(chunk.ids, settled);
          acknowledged += 1;
          continue;
        }
        const { accepted, rejected } = outcome.response;
        const inChunk = new Set(chunk.ids);
        const done = [...accepted, ...rejected.map((r) => r.id)].filter((id) => inChunk.has(id));
        // Rejected events are permanently invalid: sending them again would fail again.
        if (rejected.length > 0) logOnce('collector rejected events', new Error(`${rejected[0]!.id}: ${rejected[0]!.error}`));
        if (done.length === 0) {
          // The collector confirmed nothing: looping now would resend the same events at once.
          return report(retryLater(undefined));
        }
        await acknowledge(done, settled);
        acknowledged += done.length;
        attempt = 0;
        retryNotBefore = 0;
      }
    }
  }

  async function runExclusive(): Promise<UploadReport> {
    if (!locks) return drain();
    // ifAvailable: when another tab holds it, that tab is already draining the shared outbox.
    const busy: UploadReport = { status: 'busy', acknowledged: 0 };
    return await locks.request('hunch-upload', { ifAvailable: true }, (lock) => (lock ? drain() : busy));
  }

  function flush(): Promise<UploadReport> {
    if (running) return running;
    addedSinceRun = 0;
    running = (async () => {
      try {
        const result = await runExclusive();
        // Come back later: events added since the other tab read the outbox may be left.
        if (result.status === 'busy') schedule(debounceMs);
        return result;
      } catch (error) {
        logOnce('upload failed', error);
        retryLater(undefined);
        return { status: 'error' as const, acknowledged: 0 };
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  function beacon(): void {
    try {
      if (stopped || !sendBeacon || !allowsUpload()) return;
      const events = outgoing([...known.values()].filter((event) => !beaconed.has(event.id)));
      const { chunks } = chunkEvents(events, maxBytes, deps.now());
      for (const chunk of chunks) {
        // False when the browser's keepalive quota (about 64 KB) is used up: the rest waits.
        if (!sendBeacon(options.url, chunk.body)) break;
        chunk.ids.forEach((id) => beaconed.add(id));
      }
    } catch (error) {
      logOnce('upload beacon failed', error);
    }
  }

  const onPageHide = () => beacon();
  const onVisibility = () => {
    if (doc?.visibilityState === 'hidden') beacon();
    else beaconed.clear();
  };
  win?.addEventListener('pagehide', onPageHide);
  doc?.addEventListener('visibilitychange', onVisibility);

  let wasAllowed = allowsUpload();
  const unsubscribe = options.consent?.subscribe(() => {
    const allowed = allowsUpload();
    if (allowed === wasAllowed) return;
    wasAllowed = allowed;
    if (allowed) {
      schedule(debounceMs);
      return;
    }
    // Withdrawn: what was queued under the old consent must never be sent.
    cancelTimer();
    known.clear();
    store.then((s) => s.clearOutbox()).catch((error: unknown) => logOnce('clearing the outbox failed', error));
  });
  // The outbox may hold events an earlier page could not send.
  if (wasAllowed) schedule(debounceMs);
  else store.then((s) => s.clearOutbox()).catch((error: unknown) => logOnce('clearing the outbox failed', error));

  return {
    added(events) {
      try {
        if (stopped || !allowsUpload()) return;
        if (events) remember(events);
        addedSinceRun += events?.length ?? 1;
        schedule(addedSinceRun >= eagerCount ? 0 : debounceMs);
      } catch (error) {
        logOnce('upload scheduling failed', error);
      }
    },
    flush,
    beacon,
    forget() {
      forgets++;
      cancelTimer();
      known.clear();
      beaconed.clear();
      addedSinceRun = 0;
    },
    stop() {
      stopped = true;
      cancelTimer();
      unsubscribe?.();
      win?.removeEventListener('pagehide', onPageHide);
      doc?.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
