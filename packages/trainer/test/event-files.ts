/** Event files for tests: writing them as `hunch simulate` or a collector would, reading them whole. */
import { writeFile } from 'node:fs/promises';
import type { HunchEvent } from '@hunch/core';
import { ndjsonSource, type ScanOptions, type ScanReport } from '../src/event-source.js';

export async function writeEventsFile(path: string, events: readonly HunchEvent[], extraLines: string[] = []): Promise<void> {
  await writeFile(path, [...events.map((event) => JSON.stringify(event)), ...extraLines].map((line) => `${line}\n`).join(''));
}

/** All valid events of a file in memory, with the skipped lines (training streams them instead). */
export async function readEvents(path: string, options: ScanOptions = {}): Promise<Omit<ScanReport, 'events'> & { events: HunchEvent[] }> {
  const events: HunchEvent[] = [];
  const { skipped, skippedLines } = await ndjsonSource(path, options).scan((event) => events.push(event));
  return { events, skipped, skippedLines };
}

/** Groups events into sessions, each ordered by time (ties keep file order). */
export function groupSessions(events: readonly HunchEvent[]): HunchEvent[][] {
  const sessions = new Map<string, HunchEvent[]>();
  for (const event of events) {
    const session = sessions.get(event.sessionId);
    if (session) session.push(event);
    else sessions.set(event.sessionId, [event]);
  }
  return [...sessions.values()].map((session) => session.sort((a, b) => a.ts - b.ts));
}
