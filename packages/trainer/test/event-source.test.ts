import type { HunchEvent } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { storeSource } from '../src/event-source.js';
import { simulated } from './helpers.js';

describe('storeSource', () => {
  it('validates a store\'s events like file lines, and reads one snapshot for every pass', async () => {
    const [a, b] = simulated(1, 3) as [HunchEvent, HunchEvent];
    let reads = 0;
    const stored: unknown[] = [a, { ...b, name: 'login' }, b];
    const store = {
      read(): AsyncIterable<unknown> {
        reads++;
        const snapshot = [...stored];
        return {
          async *[Symbol.asyncIterator]() {
            yield* snapshot;
          },
        };
      },
    };
    const source = storeSource('events.sqlite', store);
    const first: HunchEvent[] = [];
    expect(await source.scan((event) => first.push(event))).toEqual({ events: 2, skipped: 1, skippedLines: [{ line: 2, error: 'unknown event name "login"' }] });
    expect(first).toEqual([a, b]);
    // Events stored between the passes do not change the second.
    stored.push(...simulated(1, 4));
    const second: HunchEvent[] = [];
    await source.scan((event) => second.push(event));
    expect(second).toEqual(first);
    expect(reads).toBe(1);
    expect(source.name).toBe('events.sqlite');
  });
});
