import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { groupSessions, readEvents, scanEvents } from '../src/ndjson.js';

const fixture = fileURLToPath(new URL('./fixtures/events-with-broken-lines.ndjson', import.meta.url));

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
    const report = await scanEvents(fixture, (event) => seen.push(event.id.slice(-1)));
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
