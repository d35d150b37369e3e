import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { groupSessions, readEvents } from '../src/ndjson.js';

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
