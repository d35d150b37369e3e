/**
 * Which tokens the model sees, and how much of the last answer's work can be kept.
 *
 * The worker keeps the KV cache of its last context window (a run of whole events after
 * [BOS]). When the next request is that window plus new events, only the new events' tokens
 * are run (one event: one or a few tokens instead of the whole history). When the window
 * would overflow the model's context or the event limit, it restarts from the latest events
 * filling REFILL of the limits, so that the following events extend it again: the model
 * sees between REFILL and all of the limits, and recomputes once every few events instead
 * of on every one.
 */

/** A window restarted after an overflow is filled to this share of the limits. */
export const REFILL = 0.75;

export interface EncodedEvent {
  id: string;
  tokens: readonly number[];
}

export interface ContextWindow {
  /** Ids of the events in the window, oldest first. */
  eventIds: readonly string[];
  /** [BOS] and the window's tokens: what the cache holds. */
  tokenIds: readonly number[];
}

export interface ContextLimits {
  /** The model's context length in tokens, [BOS] included (n_positions). */
  maxTokens: number;
  /** The most events in a window. */
  maxEvents: number;
}

export type ContextPlan =
  /** The cache covers the whole request: answer as before. */
  | { mode: 'reused'; window: ContextWindow }
  /** Run `newTokens` on top of the cached window. */
  | { mode: 'incremental'; window: ContextWindow; newTokens: number[] }
  /** Run the whole new window from an empty cache. */
  | { mode: 'full'; window: ContextWindow };

/**
 * The plan for `events` (the history, oldest first) given the cached window, if any.
 * A full window is the whole history when it fits with room for one more event, else the
 * latest events that fit REFILL of the limits.
 */
export function planContext(events: readonly EncodedEvent[], bos: number, limits: ContextLimits, cached?: ContextWindow): ContextPlan {
  if (cached) {
    const added = eventsAfter(events, cached.eventIds);
    if (added) {
      const newTokens = added.flatMap((event) => event.tokens);
      const fits = cached.tokenIds.length + newTokens.length <= limits.maxTokens && cached.eventIds.length + added.length <= limits.maxEvents;
      if (fits) {
        const window = { eventIds: [...cached.eventIds, ...added.map(({ id }) => id)], tokenIds: [...cached.tokenIds, ...newTokens] };
        return newTokens.length === 0 && added.length === 0 ? { mode: 'reused', window: cached } : { mode: 'incremental', window, newTokens };
      }
    }
  }
  const all = windowOf(events, bos, limits.maxTokens, limits.maxEvents);
  // The whole history while it leaves room for the next event. A request of maxEvents events
  // (the page sends its latest historyLimit: each new one pushes the oldest out) could never be
  // extended, and every event would run the whole window again.
  if (all.eventIds.length === events.length && events.length < limits.maxEvents) return { mode: 'full', window: all };
  return { mode: 'full', window: windowOf(events, bos, Math.floor(REFILL * limits.maxTokens), Math.floor(REFILL * limits.maxEvents)) };
}

/**
 * The events of `events` after the run `windowIds`, when `windowIds` appears in it in order
 * (older events may have dropped off the front); undefined when it does not.
 */
function eventsAfter(events: readonly EncodedEvent[], windowIds: readonly string[]): EncodedEvent[] | undefined {
  if (windowIds.length === 0) return [...events];
  const start = events.findIndex((event) => event.id === windowIds[0]);
  if (start < 0 || start + windowIds.length > events.length) return undefined;
  for (let i = 1; i < windowIds.length; i++) if (events[start + i]!.id !== windowIds[i]) return undefined;
  return events.slice(start + windowIds.length);
}

/** [BOS] and the latest whole events within `maxTokens` tokens ([BOS] included) and `maxEvents` events. */
function windowOf(events: readonly EncodedEvent[], bos: number, maxTokens: number, maxEvents: number): ContextWindow {
  let tokens = 1;
  let first = events.length;
  while (first > 0 && events.length - first < maxEvents && tokens + events[first - 1]!.tokens.length <= maxTokens) {
    first--;
    tokens += events[first]!.tokens.length;
  }
  const kept = events.slice(first);
  return { eventIds: kept.map(({ id }) => id), tokenIds: [bos, ...kept.flatMap((event) => event.tokens)] };
}
