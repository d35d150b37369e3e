/**
 * Hunch events (an NDJSON file or another EventSource) -> token sequences for trainSequences, in two streaming passes so
 * memory grows with the number of tokens (as Int32/Float64 arrays), never with parsed
 * event objects:
 *   pass 1 counts actions, items, searches and sessions -> the vocabulary;
 *   pass 2 encodes every event straight into its session's token buffer.
 * Sessions are then put in time order, cut into [BOS]-first windows of the context, and
 * the latest sessions (by start time) are held out for validation.
 */
import { isBehaviourEvent, VocabularyCounts, type HunchEvent, type Merge, type Vocabulary } from '@hunch/core';
import { ndjsonSource, type EventSource, type ScanReport } from './event-source.js';

export interface CorpusOptions {
  /** Tokens after [BOS] per window (the model's n_positions). */
  context: number;
  /** Share of sessions, the latest by start time, held out for validation (0 = none). */
  validationShare: number;
  /** Vocabulary to extend (fine-tuning) instead of building a fresh one. */
  base?: { tokens: readonly string[]; merges: readonly Merge[] };
  /** Vocabulary to encode with as it is (evaluating a model on new events: what it does not know is [UNK]). */
  vocabulary?: Vocabulary;
}

export interface EventCorpus extends Omit<ScanReport, 'events'> {
  vocabulary: Vocabulary;
  /** [BOS] + at most `context` tokens each. */
  train: Int32Array[];
  /** The session of each training window, numbered from 0 in order (a long session is several windows). */
  trainSessions: Int32Array;
  validation: Int32Array[];
  /** Item id -> events about it (the "popular" fallback list). */
  itemCounts: Record<string, number>;
  events: number;
  sessions: number;
  /** Sessions of 2 or more events: those where a next event follows one to learn it from. */
  learnableSessions: number;
  validationSessions: number;
}

/** Each session's order of first appearance, earliest event time and event count, as the events stream past. */
export class SessionStarts {
  /** Session id -> [order of first appearance, earliest event time, events]. */
  readonly sessions = new Map<string, [number, number, number]>();

  add(event: Pick<HunchEvent, 'sessionId' | 'ts'>): void {
    const start = this.sessions.get(event.sessionId);
    if (!start) this.sessions.set(event.sessionId, [this.sessions.size, event.ts, 1]);
    else {
      if (event.ts < start[1]) start[1] = event.ts;
      start[2]++;
    }
  }

  /** Session ids by start time, earliest first (ties: first seen first). */
  byStart(): string[] {
    return [...this.sessions].sort(([, a], [, b]) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
  }

  /** Sessions of 2 or more events: those where a next event follows one to learn it from. */
  isLearnable(id: string): boolean {
    return (this.sessions.get(id)?.[2] ?? 0) >= 2;
  }
}

/** One session's tokens with the time of the event each came from, in file order. */
class SessionTokens {
  ids = new Int32Array(8);
  ts = new Float64Array(8);
  length = 0;

  push(id: number, ts: number): void {
    if (this.length === this.ids.length) {
      const ids = new Int32Array(this.length * 2);
      const times = new Float64Array(this.length * 2);
      ids.set(this.ids);
      times.set(this.ts);
      [this.ids, this.ts] = [ids, times];
    }
    this.ids[this.length] = id;
    this.ts[this.length++] = ts;
  }

  /** Tokens in time order; ties (and the tokens of one event) keep file order. */
  ordered(): Int32Array {
    const n = this.length;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = this.ts[i - 1]! <= this.ts[i]!;
    if (sorted) return this.ids.slice(0, n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.ts[a]! - this.ts[b]! || a - b);
    return Int32Array.from(order, (i) => this.ids[i]!);
  }
}

/** [BOS] + consecutive chunks of `context` tokens: every token is a target exactly once. */
export function windows(tokens: Int32Array, bos: number, context: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let start = 0; start < tokens.length; start += context) {
    const chunk = tokens.subarray(start, start + context);
    const row = new Int32Array(chunk.length + 1);
    row[0] = bos;
    row.set(chunk, 1);
    out.push(row);
  }
  return out;
}

/** `input`: an NDJSON file's path, or a source such as the collector's database. */
export async function readEventCorpus(input: string | EventSource, options: CorpusOptions): Promise<EventCorpus> {
  const source = typeof input === 'string' ? ndjsonSource(input) : input;
  const path = source.name;
  if (!Number.isInteger(options.context) || options.context < 1) throw new Error('context must be a positive integer');
  const counts = new VocabularyCounts();
  const itemCounts: Record<string, number> = {};
  const count = (id: string) => (itemCounts[id] = (itemCounts[id] ?? 0) + 1);
  const starts = new SessionStarts();
  let report: ScanReport;
  try {
    report = await source.scan((event) => {
      if (!isBehaviourEvent(event.name)) return; // exposures: experiment analysis only
      counts.add(event);
      if (event.params.item_id !== undefined) count(event.params.item_id);
      if (event.name === 'purchase') for (const item of event.params.items ?? []) count(item.item_id);
      starts.add(event);
    });
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (report.events === 0) throw new Error(`${path} holds no valid events`);
  const vocabulary = options.vocabulary ?? (options.base ? counts.extend(options.base) : counts.build());

  const buffers = new Map<string, SessionTokens>();
  const second = await source.scan((event) => {
    let buffer = buffers.get(event.sessionId);
    if (!buffer) buffers.set(event.sessionId, (buffer = new SessionTokens()));
    for (const token of vocabulary.eventTokens(event)) buffer.push(vocabulary.id(token), event.ts);
  });
  if (second.events !== report.events) throw new Error(`${path} changed while it was being read`);

  // The latest sessions by start time (ties: later in the file) are the validation set.
  const byStart = starts.byStart();
  const held = options.validationShare > 0 ? Math.floor(byStart.length * options.validationShare) : 0;
  const heldOut = new Set(byStart.slice(byStart.length - held));
  const train: Int32Array[] = [];
  const sessionOfWindow: number[] = [];
  const validation: Int32Array[] = [];
  let trainSession = 0;
  for (const [id, buffer] of buffers) {
    const cut = windows(buffer.ordered(), vocabulary.bos, options.context);
    if (heldOut.has(id)) validation.push(...cut);
    else if (cut.length > 0) {
      train.push(...cut);
      for (let w = 0; w < cut.length; w++) sessionOfWindow.push(trainSession);
      trainSession++;
    }
    buffers.delete(id); // free each session's buffer as soon as it is cut
  }
  return {
    vocabulary,
    train,
    trainSessions: Int32Array.from(sessionOfWindow),
    validation,
    itemCounts,
    events: report.events,
    sessions: starts.sessions.size,
    learnableSessions: byStart.filter((id) => starts.isLearnable(id)).length,
    validationSessions: held,
    skipped: report.skipped,
    skippedLines: report.skippedLines,
  };
}
