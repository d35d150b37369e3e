import { describe, expect, it } from 'vitest';
import { planContext, REFILL, type EncodedEvent } from '../src/worker/context.js';

const BOS = 1;
/** Event i has id "e{i}" and tokens [10 + i] (or `width` tokens). */
const events = (from: number, to: number, width = 1): EncodedEvent[] =>
  Array.from({ length: to - from }, (_, n) => ({ id: `e${from + n}`, tokens: Array.from({ length: width }, (_, t) => 100 * (from + n) + t) }));
const limits = { maxTokens: 9, maxEvents: 50 };

describe('planContext', () => {
  it('runs the whole history when nothing is cached', () => {
    const plan = planContext(events(0, 3), BOS, limits);
    expect(plan).toEqual({ mode: 'full', window: { eventIds: ['e0', 'e1', 'e2'], tokenIds: [BOS, 0, 100, 200] } });
  });

  it('runs only new events on top of the cached window, and reuses it when nothing is new', () => {
    const cached = planContext(events(0, 3), BOS, limits).window;
    expect(planContext(events(0, 3), BOS, limits, cached)).toEqual({ mode: 'reused', window: cached });
    const plan = planContext(events(0, 5), BOS, limits, cached);
    expect(plan).toEqual({ mode: 'incremental', newTokens: [300, 400], window: { eventIds: ['e0', 'e1', 'e2', 'e3', 'e4'], tokenIds: [BOS, 0, 100, 200, 300, 400] } });
  });

  it('extends the window while older events drop off the front of the request', () => {
    const cached = planContext(events(2, 5), BOS, limits).window;
    // The page sends its latest events only: e0 and e1 are gone, the window (e2..e4) is intact.
    expect(planContext(events(2, 6), BOS, limits, cached)).toMatchObject({ mode: 'incremental', newTokens: [500] });
  });

  it('restarts from the latest events filling REFILL of the context when the window overflows', () => {
    const cached = planContext(events(0, 8), BOS, limits).window; // [BOS] + 8 tokens: full
    const plan = planContext(events(0, 9), BOS, limits, cached);
    const kept = Math.floor(REFILL * limits.maxTokens) - 1; // tokens after [BOS]
    expect(plan.mode).toBe('full');
    expect(plan.window.eventIds).toEqual(events(9 - kept, 9).map(({ id }) => id));
    // ... so the next events extend it again.
    expect(planContext(events(0, 10), BOS, limits, plan.window).mode).toBe('incremental');
  });

  it('restarts at REFILL of the events when the page sends as many as the limit, so that the next ones extend it', () => {
    const capped = { maxTokens: 100, maxEvents: 8 };
    // The page sends its latest 8 events: each new one pushes the oldest out.
    const first = planContext(events(0, 8), BOS, capped);
    expect(first.window.eventIds).toEqual(events(2, 8).map(({ id }) => id)); // floor(0.75 * 8) = 6
    let window = first.window;
    for (let last = 9; last <= 10; last++) {
      const plan = planContext(events(last - 8, last), BOS, capped, window);
      expect(plan).toMatchObject({ mode: 'incremental', newTokens: [100 * (last - 1)] });
      window = plan.window;
    }
    expect(window.eventIds).toHaveLength(8);
    expect(planContext(events(3, 11), BOS, capped, window).window.eventIds).toEqual(events(5, 11).map(({ id }) => id));
  });

  it('keeps whole events only, and caps the number of events too', () => {
    const wide = planContext(events(0, 5, 3), BOS, limits); // 15 tokens do not fit in 9
    expect(wide.window.tokenIds).toHaveLength(1 + 3 * Math.floor((Math.floor(REFILL * 9) - 1) / 3));
    const few = planContext(events(0, 6), BOS, { maxTokens: 100, maxEvents: 4 });
    expect(few.window.eventIds).toEqual(['e3', 'e4', 'e5']); // floor(0.75 * 4) = 3
  });

  it('starts again when the cached window is no longer a run of the request', () => {
    const cached = planContext(events(0, 3), BOS, limits).window;
    const edited = [events(0, 1)[0]!, events(2, 3)[0]!, ...events(3, 4)]; // e1 is gone from the middle
    expect(planContext(edited, BOS, limits, cached)).toMatchObject({ mode: 'full', window: { eventIds: ['e0', 'e2', 'e3'] } });
  });
});
