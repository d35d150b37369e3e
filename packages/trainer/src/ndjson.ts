/**
 * Reads HunchEvents from an NDJSON file line by line (files can be larger than memory
 * would like as one string). Bad lines are skipped and counted, not fatal: one broken
 * upload should not stop a training run.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { validateEvent, type HunchEvent } from '@hunch/core';

/** How many bad line numbers are kept for the report. */
const MAX_REPORTED = 5;

/** What a pass over an NDJSON file found, beside the events themselves. */
export interface ScanReport {
  /** Valid events. */
  events: number;
  /** Non-empty lines that were not valid events. */
  skipped: number;
  /** 1-based numbers of the first few skipped lines, with why. */
  skippedLines: Array<{ line: number; error: string }>;
}

export interface ReadEventsResult extends Omit<ScanReport, 'events'> {
  events: HunchEvent[];
}

/**
 * Calls `onEvent` with every valid event of the file, in file order, holding one line at
 * a time: memory does not grow with the file. Rejects when the file cannot be opened.
 */
export async function scanEvents(path: string, onEvent: (event: HunchEvent) => void): Promise<ScanReport> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  // Surface open errors (ENOENT, EISDIR) as a rejection rather than an unhandled event.
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  const report: ScanReport = { events: 0, skipped: 0, skippedLines: [] };
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    let error: string;
    try {
      const checked = validateEvent(JSON.parse(line));
      if (checked.ok) {
        report.events++;
        onEvent(checked.value);
        continue;
      }
      error = checked.error;
    } catch {
      error = 'not valid JSON';
    }
    report.skipped++;
    if (report.skippedLines.length < MAX_REPORTED) report.skippedLines.push({ line: lineNumber, error });
  }
  return report;
}

/** All valid events of a file in memory (small files and tests; training streams with scanEvents). */
export async function readEvents(path: string): Promise<ReadEventsResult> {
  const events: HunchEvent[] = [];
  const { skipped, skippedLines } = await scanEvents(path, (event) => events.push(event));
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
