/**
 * Loads a research dataset into everything an evaluation needs, following the datasets
 * README's protocol for its format: item index, dense training sequences, test (and
 * validation) examples, training popularity and the history mask.
 */
import { encodeSequences, ItemIndex } from '../data/item-index.js';
import { readSequences, readSessions, type SkipReport } from '../data/research.js';
import { countItems, type SequenceSet } from '../data/sequence-set.js';
import { countUnknown, leaveOneOut, sessionExamples, type Examples, type UnknownExamples } from './protocols.js';

export interface BenchmarkData {
  protocol: 'sessions' | 'leave-one-out';
  /** Every rankable item. Sessions: the training items. Leave-one-out: every item in the file. */
  items: ItemIndex;
  /** Dense training sequences: what baselines and models are fitted on. */
  train: SequenceSet;
  test: Examples;
  /** Leave-one-out only: the second-to-last item of each user. */
  validation?: Examples;
  /** Leave-one-out only: user id of each input line, indexed by `Examples.sources`. */
  users?: string[];
  /** Occurrences of each item in `train`: the popularity baseline and the tie-break. */
  popularity: Int32Array;
  /** 'history' for leave-one-out (the README's figures mask it), 'none' for sessions. */
  mask: 'history' | 'none';
  /** Malformed lines per file read. */
  skipped: Record<string, SkipReport>;
  /** Occurrences of test items unknown to training (sessions protocol): their examples are kept (protocols.ts). */
  unknownTestItems: number;
  /** Test examples with an unknown target (a miss) or a wholly unknown prefix (ranked by popularity): counted, never dropped. */
  unknown: UnknownExamples;
  /** Users with fewer than 3 items, left out (leave-one-out protocol). */
  tooShortUsers: number;
}

const skipReport = ({ skipped, firstSkippedLines }: SkipReport): SkipReport => ({ skipped, firstSkippedLines });

/**
 * Sessions protocol (diginetica): items are indexed from the training sessions; test items
 * unknown to training stay in their sessions, so every example the protocol defines is
 * evaluated (an unknown target is a miss; unknown prefix items are left out of the prefix).
 */
export async function loadSessionsBenchmark(trainPath: string, testPath: string): Promise<BenchmarkData> {
  const [trainRaw, testRaw] = await Promise.all([readSessions(trainPath), readSessions(testPath)]);
  const items = ItemIndex.fromSequences(trainRaw.sessions);
  const train = encodeSequences(trainRaw.sessions, items).sequences;
  const test = encodeSequences(testRaw.sessions, items, { keepUnknown: true });
  const examples = sessionExamples(test.sequences);
  return {
    protocol: 'sessions',
    items,
    train,
    test: examples,
    unknown: countUnknown(examples),
    popularity: countItems(train, items.size),
    mask: 'none',
    skipped: { [trainPath]: skipReport(trainRaw), [testPath]: skipReport(testRaw) },
    unknownTestItems: test.unknownItems,
    tooShortUsers: 0,
  };
}

/**
 * Leave-one-out protocol (amazon-beauty): all items of the file are ranked; training is
 * each user's items but the last two.
 */
export async function loadLeaveOneOutBenchmark(path: string): Promise<BenchmarkData> {
  const raw = await readSequences(path);
  const items = ItemIndex.fromSequences(raw.sequences);
  const split = leaveOneOut(encodeSequences(raw.sequences, items).sequences);
  return {
    protocol: 'leave-one-out',
    items,
    train: split.train,
    test: split.test,
    validation: split.validation,
    users: raw.users,
    popularity: countItems(split.train, items.size),
    mask: 'history',
    skipped: { [path]: skipReport(raw) },
    unknownTestItems: 0,
    unknown: countUnknown(split.test),
    tooShortUsers: split.tooShort,
  };
}

/** A research dataset's files, by format: `sessions` (train and test sessions) or `sequences` (one line per user). */
export type BenchmarkInput = { format: 'sessions'; train: string; test: string } | { format: 'sequences'; data: string };

/** Reads a research dataset under its protocol (sessions: SR-GNN prefixes; sequences: leave-one-out). */
export function loadBenchmarkData(input: BenchmarkInput): Promise<BenchmarkData> {
  return input.format === 'sessions' ? loadSessionsBenchmark(input.train, input.test) : loadLeaveOneOutBenchmark(input.data);
}

/** One progress line saying what was read, with how many test examples training cannot fully see. */
export const describeData = (data: BenchmarkData) =>
  `${data.protocol}: ${data.train.length} training sequences, ${data.train.totalLength} clicks, ${data.items.size} items, ${data.test.targets.length} test examples ` +
  `(all counted: ${data.unknown.targets} with a target unknown to training, counted as misses; ${data.unknown.prefixes} with no known item in the prefix, ranked by popularity)`;
