/**
 * Importers for the two research formats in the shared datasets (see
 * /work/shared/datasets/README.md): raw integer item ids, one sequence per line.
 *
 * - sessions (diginetica `train_sessions.txt.gz`, `test_sessions.txt`): `item item ...`,
 *   one session per line in click order, sessions in date order.
 * - sequences (amazon-beauty `Beauty.txt`): `user item item ...`, chronological.
 *
 * Values are kept as raw ids (encode them with an ItemIndex). Whitespace-only lines are
 * ignored; malformed lines are skipped and counted, never fatal.
 */
import { readLines } from './lines.js';
import { SequenceSetBuilder, type SequenceSet } from './sequence-set.js';

/** How many skipped line numbers are kept for the report. */
const MAX_REPORTED = 5;
const MAX_ID = 2 ** 31 - 1;
const INTEGER = /^[0-9]+$/;

export interface SkipReport {
  /** Non-blank lines that were malformed and left out. */
  skipped: number;
  /** 1-based numbers of the first few skipped lines. */
  firstSkippedLines: number[];
}

export interface SessionsImport extends SkipReport {
  /** One sequence of raw item ids per session, in file order. */
  sessions: SequenceSet;
}

export interface SequencesImport extends SkipReport {
  /** One sequence of raw item ids per user, in file order. */
  sequences: SequenceSet;
  /** The user id of each sequence (same order). */
  users: string[];
}

/** Parses a non-negative integer id that fits an Int32Array, else -1. */
function parseId(token: string): number {
  if (!INTEGER.test(token)) return -1;
  const value = Number(token);
  return value <= MAX_ID ? value : -1;
}

/** Shared reading loop: `parse` returns false for a malformed line. */
async function importLines(
  path: string,
  what: string,
  parse: (tokens: string[]) => boolean,
): Promise<SkipReport> {
  const report: SkipReport = { skipped: 0, firstSkippedLines: [] };
  let accepted = 0;
  for await (const { line, number } of readLines(path)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (parse(trimmed.split(/\s+/))) {
      accepted++;
      continue;
    }
    report.skipped++;
    if (report.firstSkippedLines.length < MAX_REPORTED) report.firstSkippedLines.push(number);
  }
  if (accepted === 0) {
    const detail = report.skipped > 0 ? `all ${report.skipped} non-blank lines are malformed` : 'it is empty';
    throw new Error(`No ${what} in ${path}: ${detail}`);
  }
  return report;
}

/** Appends the ids in `tokens[from..]` as one sequence; false (nothing kept) if one is not an id. */
function pushIds(builder: SequenceSetBuilder, tokens: string[], from: number): boolean {
  for (let i = from; i < tokens.length; i++) {
    const id = parseId(tokens[i]!);
    if (id < 0) {
      builder.discardSequence();
      return false;
    }
    builder.pushValue(id);
  }
  builder.endSequence();
  return true;
}

/**
 * Reads a sessions file (`.gz` is gunzipped): one session of space-separated integer item
 * ids per line. A line with any non-integer token is skipped and counted. Rejects when the
 * file cannot be read or holds no valid session.
 */
export async function readSessions(path: string): Promise<SessionsImport> {
  const builder = new SequenceSetBuilder();
  const report = await importLines(path, 'sessions', (tokens) => pushIds(builder, tokens, 0));
  return { sessions: builder.build(), ...report };
}

/**
 * Reads a sequences file (`.gz` is gunzipped): `user item item ...` per line, integer ids.
 * A line with no item, or any non-integer token, is skipped and counted. Rejects when the
 * file cannot be read or holds no valid sequence.
 */
export async function readSequences(path: string): Promise<SequencesImport> {
  const builder = new SequenceSetBuilder();
  const users: string[] = [];
  const report = await importLines(path, 'sequences', (tokens) => {
    const user = tokens[0]!;
    if (tokens.length < 2 || parseId(user) < 0 || !pushIds(builder, tokens, 1)) return false;
    users.push(user);
    return true;
  });
  return { sequences: builder.build(), users, ...report };
}
