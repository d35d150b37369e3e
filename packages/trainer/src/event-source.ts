/**
 * Where `hunch train` reads events from: an NDJSON file (`--events`) or a store such as the
 * collector's database (`--from`). Either way the trainer streams them, twice, and validates
 * every one: bad lines or rows are skipped and counted, not fatal (one broken upload should
 * not stop a training run), and a source yields the same events on both passes.
 *
 * A file is read line by line at the byte level, holding at most `maxLineBytes` of a line:
 * a longer line is skipped as it streams past, never held whole.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { validateEvent, type HunchEvent, type Validation } from '@hunch/core';

export interface EventSource {
  /** For messages: the file or database. */
  name: string;
  /** Calls `onEvent` with every valid event, in order, and reports what was skipped. */
  scan(onEvent: (event: HunchEvent) => void): Promise<ScanReport>;
}

/** What a pass over a source found, beside the events themselves. */
export interface ScanReport {
  /** Valid events. */
  events: number;
  /** Lines (or rows) that were not valid events; blank lines do not count. */
  skipped: number;
  /** 1-based numbers of the first few skipped lines (or rows), with why. */
  skippedLines: Array<{ line: number; error: string }>;
}

/** How many skipped lines or rows are kept for the report. */
const MAX_REPORTED = 5;

/** Counts a pass's events: each valid one goes to `onEvent`, the first few skipped are kept with their position. */
function tally(onEvent: (event: HunchEvent) => void): { report: ScanReport; take(position: number, checked: Validation<HunchEvent>): void } {
  const report: ScanReport = { events: 0, skipped: 0, skippedLines: [] };
  return {
    report,
    take(position, checked) {
      if (checked.ok) {
        report.events++;
        onEvent(checked.value);
        return;
      }
      report.skipped++;
      if (report.skippedLines.length < MAX_REPORTED) report.skippedLines.push({ line: position, error: checked.error });
    },
  };
}

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

function parseLine(line: string): Validation<HunchEvent> {
  try {
    return validateEvent(JSON.parse(line));
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
}

/**
 * An NDJSON file's events, in file order, holding one line at a time (at most
 * `maxLineBytes` of it): memory grows neither with the file nor with its longest line.
 * Skipped lines are reported by their 1-based line number. A scan rejects when the file
 * cannot be opened.
 */
export function ndjsonSource(path: string, options: ScanOptions = {}): EventSource {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  return {
    name: path,
    async scan(onEvent) {
      if (!(Number.isInteger(maxLineBytes) && maxLineBytes > 0)) throw new Error(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
      const stream = createReadStream(path);
      // Surface open errors (ENOENT, EISDIR) as a rejection rather than an unhandled event.
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      const { report, take } = tally(onEvent);
      let lineNumber = 0;
      for await (const line of splitLines(stream as AsyncIterable<Buffer>, maxLineBytes)) {
        lineNumber++;
        if (line !== undefined && line.trim() === '') continue;
        take(lineNumber, line === undefined ? { ok: false, error: `longer than ${maxLineBytes} bytes` } : parseLine(line));
      }
      return report;
    },
  };
}

/**
 * A store's events (anything with the collector's `read()`), validated again like a file's
 * lines: the trainer trusts no input. The snapshot is taken at the first pass and reused, so
 * events the collector stores meanwhile do not change the second pass. Skipped events are
 * reported by their 1-based position in the snapshot.
 */
export function storeSource(name: string, store: { read(): AsyncIterable<unknown> }): EventSource {
  let snapshot: AsyncIterable<unknown> | undefined;
  return {
    name,
    async scan(onEvent) {
      snapshot ??= store.read();
      const { report, take } = tally(onEvent);
      let position = 0;
      for await (const candidate of snapshot) take(++position, validateEvent(candidate));
      return report;
    },
  };
}

/** Whether a file is an SQLite database (its 16-byte header: a collector's) rather than NDJSON. Rejects as open() does (ENOENT, ...). */
export async function isSqliteFile(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(16);
    const { bytesRead } = await file.read(header, 0, 16, 0);
    return bytesRead === 16 && header.toString('latin1') === 'SQLite format 3\0';
  } finally {
    await file.close();
  }
}
