import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, ndjsonSource } from '../src/event-source.js';
import { groupSessions, readEvents } from './event-files.js';
import { simulated } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/events-with-broken-lines.ndjson', import.meta.url));

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-ndjson-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('readEvents', () => {
  it('keeps valid events and counts broken lines with their numbers', async () => {
    const { events, skipped, skippedLines } = await readEvents(fixture);
    expect(events.map((e) => e.id.slice(-1))).toEqual(['1', '2', '7', '6', '8']);
    expect(skipped).toBe(5);
    // Line 5 is blank: ignored, not counted.
    expect(skippedLines.map((s) => s.line)).toEqual([3, 4, 6, 7, 8]);
    expect(skippedLines[0]!.error).toBe('not valid JSON');
    expect(skippedLines[2]!.error).toMatch(/item_id is required/);
    expect(skippedLines[3]!.error).toMatch(/unknown event name/);
  });

  it('streams the same events to a callback, in file order, with the same report', async () => {
    const seen: string[] = [];
    const report = await ndjsonSource(fixture).scan((event) => seen.push(event.id.slice(-1)));
    expect(seen).toEqual(['1', '2', '7', '6', '8']);
    expect(report.events).toBe(5);
    expect(report.skipped).toBe(5);
    expect(report.skippedLines).toEqual((await readEvents(fixture)).skippedLines);
  });

  it('rejects a missing file', async () => {
    await expect(readEvents(`${fixture}.missing`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('groups sessions in time order', async () => {
    const { events } = await readEvents(fixture);
    const sessions = groupSessions(events);
    expect(sessions.map((s) => s.map((e) => e.id.slice(-1)))).toEqual([
      ['1', '2', '6'],
      ['8', '7'],
    ]);
  });
});

describe('over-long lines', () => {
  const [a, b, c, d] = simulated(2, 5) as [HunchEvent, HunchEvent, HunchEvent, HunchEvent];
  const line = (event: HunchEvent) => JSON.stringify(event);

  it('skips a line over maxLineBytes as a bad line, with a reason, and reads the lines after it', async () => {
    const path = join(work, 'long.ndjson');
    // A valid event that is merely long; then 200 KB of one line (several 64 KB reads) with no line break in it.
    const long = { ...b, params: { ...b.params, item_list_id: 'x'.repeat(500), page_path: `/${'p'.repeat(499)}` } };
    expect(line(long).length).toBeGreaterThan(1000);
    await writeFile(path, [line(a), line(long), line(c), `{"id":"${'z'.repeat(200_000)}"}`, line(d)].join('\n'));
    const seen: HunchEvent[] = [];
    const report = await ndjsonSource(path, { maxLineBytes: 1000 }).scan((event) => seen.push(event));
    expect(seen).toEqual([a, c, d]);
    expect(report).toEqual({
      events: 3,
      skipped: 2,
      skippedLines: [
        { line: 2, error: 'longer than 1000 bytes' },
        { line: 4, error: 'longer than 1000 bytes' },
      ],
    });
    // A line of exactly the limit is read; one byte more is not.
    const exact = line(long).length;
    expect((await readEvents(path, { maxLineBytes: exact })).events).toEqual([a, long, c, d]);
    expect((await readEvents(path, { maxLineBytes: exact - 1 })).skippedLines[0]).toEqual({ line: 2, error: `longer than ${exact - 1} bytes` });
  });

  it('by default skips lines over 1 MiB and still reads a large valid event', async () => {
    expect(MAX_LINE_BYTES).toBe(1 << 20);
    const path = join(work, 'default.ndjson');
    // A purchase of 5,000 items (~200 KB): valid, and well under the limit.
    const items = Array.from({ length: 5000 }, (_, i) => ({ item_id: `item-${i}`, quantity: 1, price: 9.5 }));
    const purchase = { ...c, name: 'purchase' as const, params: { items } };
    await writeFile(path, `${line(a)}\n${'['.repeat(3 << 20)}\n${line(purchase)}\r\n${line(d)}\n`);
    const { events, skipped, skippedLines } = await readEvents(path);
    expect(events).toEqual([a, purchase, d]);
    expect(skipped).toBe(1);
    expect(skippedLines).toEqual([{ line: 2, error: 'longer than 1048576 bytes' }]);
  });

  it('reads multi-byte characters split across reads, and CRLF line ends', async () => {
    const path = join(work, 'utf8.ndjson');
    // ~300 KB of lines with 2-, 3- and 4-byte characters: some straddle the 64 KB reads.
    const events = Array.from({ length: 600 }, (_, i) => ({ ...a, id: `${a.id.slice(0, -4)}${String(i).padStart(4, '0')}`, name: 'search' as const, params: { search_term: `tasse ${'é€😀'.repeat(40 + (i % 7))}` } }));
    await writeFile(path, events.map((event) => `${line(event)}\r\n`).join(''));
    const read = await readEvents(path);
    expect(read.skipped).toBe(0);
    expect(read.events).toEqual(events);
  });
});
