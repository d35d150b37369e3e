/**
 * Reads HunchEvents from an NDJSON file line by line (files can be larger than memory
 * would like as one string). Bad lines are skipped and counted, not fatal: one broken
 * upload should not stop a training run. So are lines longer than `maxLineBytes`, which are
 * never held whole: their bytes are dropped as they stream past.
 */
import { createReadStream } from 'node:fs';
import { validateEvent, type HunchEvent, type Validation } from '@hunch/core';

/** How many bad line numbers are kept for the report. */
const MAX_REPORTED = 5;

/**
 * Longest line read (bytes, without its line break): 16 times the largest upload batch
 * (MAX_UPLOAD_BYTES, 64 KB), so no event the SDK or the collector produces comes near it,
 * while a runaway line costs at most this much memory, not its length.
 */
export const MAX_LINE_BYTES = 1 << 20;

export interface ScanOptions {
  /** Lines longer than this many bytes are skipped, never buffered whole (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

/** A line, or `undefined` for one longer than the limit (of which nothing was kept). */
type Line = string | undefined;

/**
 * Splits a byte stream at \n (a \r before it is dropped, as is a last line's missing \n),
 * holding at most `maxBytes` of a line: a longer line is given as `undefined` once it ends.
 */
async function* splitLines(chunks: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let bytes = 0;
  let tooLong = false;
  const take = (): Line => {
    const line = tooLong ? undefined : Buffer.concat(parts, bytes).toString('utf8');
    parts = [];
    bytes = 0;
    tooLong = false;
    return line !== undefined && line.endsWith('\r') ? line.slice(0, -1) : line;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      bytes += piece.length;
      if (!tooLong && bytes > maxBytes) {
        tooLong = true;
        parts = [];
      }
      if (!tooLong && piece.length > 0) parts.push(piece);
      if (end === -1) break;
      yield take();
      start = end + 1;
    }
  }
  if (bytes > 0) yield take();
}

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

function parseLine(line: string): Validation<HunchEvent> {
  try {
    return validateEvent(JSON.parse(line));
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
}

/**
 * Calls `onEvent` with every valid event of the file, in file order, holding one line at
 * a time (at most `maxLineBytes` of it): memory does not grow with the file, nor with its
 * longest line. Rejects when the file cannot be opened.
 */
export async function scanEvents(path: string, onEvent: (event: HunchEvent) => void, options: ScanOptions = {}): Promise<ScanReport> {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  if (!(Number.isInteger(maxLineBytes) && maxLineBytes > 0)) throw new Error(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  const stream = createReadStream(path);
  // Surface open errors (ENOENT, EISDIR) as a rejection rather than an unhandled event.
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  const report: ScanReport = { events: 0, skipped: 0, skippedLines: [] };
  let lineNumber = 0;
  for await (const line of splitLines(stream as AsyncIterable<Buffer>, maxLineBytes)) {
    lineNumber++;
    if (line !== undefined && line.trim() === '') continue;
    const checked = line === undefined ? { ok: false as const, error: `longer than ${maxLineBytes} bytes` } : parseLine(line);
    if (checked.ok) {
      report.events++;
      onEvent(checked.value);
      continue;
    }
    report.skipped++;
    if (report.skippedLines.length < MAX_REPORTED) report.skippedLines.push({ line: lineNumber, error: checked.error });
  }
  return report;
}

/** All valid events of a file in memory (small files and tests; training streams with scanEvents). */
export async function readEvents(path: string, options: ScanOptions = {}): Promise<ReadEventsResult> {
  const events: HunchEvent[] = [];
  const { skipped, skippedLines } = await scanEvents(path, (event) => events.push(event), options);
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
