/**
 * Coordination between tabs of the same shop: a BroadcastChannel so a clear() in one tab also
 * drops the others' queued writes, and Web Locks so writes, clears and evictions of several
 * tabs do not interleave badly. Both are optional: without them a tab works alone.
 */

export const CHANNEL_NAME = 'hunch-storage';
/** Held shared by each batch write, exclusively by clear(): a clear waits for in-flight batches. */
export const WRITE_LOCK = 'hunch-storage-write';
/** Held by whoever evicts, so two tabs never evict the same oldest events at once. */
export const EVICT_LOCK = 'hunch-storage-evict';

export type TabMessage =
  | { type: 'clear' }
  | { type: 'clear-outbox' }
  /** Another tab wrote this many events, so our estimate of the store's size stays close. */
  | { type: 'wrote'; events: number; outbox: number };

function isTabMessage(data: unknown): data is TabMessage {
  if (!data || typeof data !== 'object') return false;
  const { type, events, outbox } = data as { type?: unknown; events?: unknown; outbox?: unknown };
  if (type === 'clear' || type === 'clear-outbox') return true;
  return type === 'wrote' && typeof events === 'number' && typeof outbox === 'number';
}

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

export function openTabChannel(onMessage: (message: TabMessage) => void): TabChannel {
  let channel: BroadcastChannel | undefined;
  try {
    channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : undefined;
  } catch {
    channel = undefined; // opaque origins throw: this tab then works alone
  }
  if (channel) {
    channel.onmessage = (event: MessageEvent<unknown>) => {
      // Another SDK version may share the channel: ignore what we do not understand.
      if (isTabMessage(event.data)) onMessage(event.data);
    };
  }
  return {
    post(message) {
      try {
        channel?.postMessage(message);
      } catch {
        // a closed channel: nothing left to tell
      }
    },
    close() {
      channel?.close();
      channel = undefined;
    },
  };
}

interface LockOptions {
  mode: 'shared' | 'exclusive';
  /** Skip the work (resolve undefined) when another tab holds the lock. */
  ifAvailable?: boolean;
}

/** Runs `work` under a Web Lock when the browser has them, else directly. */
export async function withLock<T>(name: string, options: LockOptions, work: () => Promise<T>): Promise<T | undefined> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (!locks) return work();
  let started = false;
  try {
    return await locks.request(name, { mode: options.mode, ifAvailable: options.ifAvailable ?? false }, (lock) => {
      if (!lock) return undefined;
      started = true;
      return work();
    });
  } catch (error) {
    if (started) throw error;
    return work(); // the lock itself failed (e.g. a SecurityError in a sandboxed frame): work alone
  }
}
