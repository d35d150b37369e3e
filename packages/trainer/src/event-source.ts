/**
 * Where `hunch train` reads events from: an NDJSON file (`--events`) or a store such as the
 * collector's database (`--from`). Either way the trainer streams them, twice, with the same
 * validation; a source yields the same events on both passes.
 */
import { validateEvent, type HunchEvent } from '@hunch/core';
import { scanEvents, type ScanOptions, type ScanReport } from './ndjson.js';

export interface EventSource {
  /** For messages: the file or database. */
  name: string;
  /** Calls `onEvent` with every valid event, in order, and reports what was skipped. */
  scan(onEvent: (event: HunchEvent) => void): Promise<ScanReport>;
}

/** How many bad rows are kept for the report (as for NDJSON lines). */
const MAX_REPORTED = 5;

/** An NDJSON file's events; lines over `options.maxLineBytes` (default 1 MiB) are skipped unread. */
export function ndjsonSource(path: string, options: ScanOptions = {}): EventSource {
  return { name: path, scan: (onEvent) => scanEvents(path, onEvent, options) };
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
      const report: ScanReport = { events: 0, skipped: 0, skippedLines: [] };
      let position = 0;
      for await (const candidate of snapshot) {
        position++;
        const checked = validateEvent(candidate);
        if (checked.ok) {
          report.events++;
          onEvent(checked.value);
          continue;
        }
        report.skipped++;
        if (report.skippedLines.length < MAX_REPORTED) report.skippedLines.push({ line: position, error: checked.error });
      }
      return report;
    },
  };
}
