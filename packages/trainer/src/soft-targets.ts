/**
 * A neighbourhood's soft targets for every training prefix of token shards: what the model is
 * taught beside the next item when it distils session-kNN or STAN (train.py --distil). Neither
 * can ship (they need every training session at prediction time); their knowledge can, as
 * a loss term. Each training sequence is a session; a prefix's neighbours are found among
 * the other sequences (its own is left out, or it would see its own future).
 *
 *   DIR/soft-targets.json  { format: "hunch-soft-targets", version: 1, k, teacher, sampleSize, neighbours,
 *                            share, seed, sequences, tokens, positions, covered, file }
 *   DIR/soft-targets.bin   positions x k int32 token ids, then positions x k float32 weights,
 *                          little-endian. Positions: for each training sequence of n tokens in
 *                          shard order, its n - 1 inputs (the prefix ending at token t predicts
 *                          token t + 1). Each row holds the teacher's k best items, best first,
 *                          weights their scores over the row's sum; unused slots and positions
 *                          left out (no neighbour, or not drawn by `share`) are id 0, weight 0.
 */
import { join } from 'node:path';
import { SequenceSet } from './data/sequence-set.js';
import { SknnRecommender } from './eval/baselines/sknn.js';
import { StanRecommender } from './eval/baselines/stan.js';
import { writeFileAtomic } from './lib/fs-atomic.js';
import { Rng } from './lib/prng.js';

export const SOFT_TARGETS_FORMAT = 'hunch-soft-targets';
export const SOFT_TARGETS_VERSION = 1;
/** Items kept per position by default (train.py --distil-k may use fewer: rows are best first). */
export const DEFAULT_SOFT_TARGET_K = 100;

/** The neighbourhood taught: session-kNN, or STAN (session-kNN weighing recency; eval/baselines/stan.ts). */
export type SoftTargetTeacher = 'sknn' | 'stan';
export const SOFT_TARGET_TEACHERS: readonly SoftTargetTeacher[] = ['sknn', 'stan'];

export interface SoftTargetOptions {
  /** Items kept per position (the teacher's best). */
  k: number;
  /** Default 'sknn'. */
  teacher?: SoftTargetTeacher;
  /** The teacher's candidate sessions and neighbours (default the benchmark's baselines: 500, and 100 for sknn, 200 for stan). */
  sampleSize?: number;
  neighbours?: number;
  /** Share of positions given targets, drawn with `seed` (1: all). */
  share?: number;
  seed?: number;
  /**
   * Sequences that are windows of longer sessions (hunch train's): `sessionOf[s]`, the session
   * of sequence s, numbered from 0 in order. The teacher's sessions are then the whole
   * sessions, and a prefix's whole session is left out of its neighbours. Default: each
   * sequence its own session.
   */
  sessionOf?: ArrayLike<number>;
  /** Allocate ids and weights in SharedArrayBuffers (training workers then read them without copies). */
  shared?: boolean;
  /**
   * Give up, returning undefined, when the first positions (1%, at least 1,000 or all but one) predict more
   * than this many seconds for the whole pass (index included); `clock` in ms (default performance.now).
   */
  maxSeconds?: number;
  clock?: () => number;
}

export interface SoftTargets {
  k: number;
  teacher: SoftTargetTeacher;
  sampleSize: number;
  neighbours: number;
  positions: number;
  /** Positions with at least one target. */
  covered: number;
  ids: Int32Array;
  weights: Float32Array;
}

/** The neighbourhood's k best items and normalised scores for every input position of `train` (token sequences, [BOS] first). */
export function neighbourhoodSoftTargets(train: ReadonlyArray<ArrayLike<number>>, isItem: (token: number) => boolean, vocabularySize: number, options: SoftTargetOptions & { maxSeconds: number }): SoftTargets | undefined;
export function neighbourhoodSoftTargets(train: ReadonlyArray<ArrayLike<number>>, isItem: (token: number) => boolean, vocabularySize: number, options: SoftTargetOptions & { maxSeconds?: undefined }): SoftTargets;
export function neighbourhoodSoftTargets(train: ReadonlyArray<ArrayLike<number>>, isItem: (token: number) => boolean, vocabularySize: number, options: SoftTargetOptions): SoftTargets | undefined {
  const { k, share = 1, seed = 1, sampleSize = 500, teacher = 'sknn', sessionOf, maxSeconds, clock = () => performance.now() } = options;
  const neighbours = options.neighbours ?? (teacher === 'stan' ? 200 : 100);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`soft targets: k must be a positive integer, got ${k}`);
  if (!(share > 0 && share <= 1)) throw new Error(`soft targets: share must be in (0, 1], got ${share}`);
  if (sessionOf && sessionOf.length !== train.length) throw new Error(`soft targets: ${sessionOf.length} sessions given for ${train.length} sequences`);
  const started = clock();
  const sessionItems: number[][] = [];
  train.forEach((s, i) => {
    const session = sessionOf ? sessionOf[i]! : i;
    if (session !== sessionItems.length && session !== sessionItems.length - 1) throw new Error(`soft targets: sequence ${i}'s session ${session} is out of order`);
    if (session === sessionItems.length) sessionItems.push([]);
    for (const token of Array.from(s)) if (isItem(token)) sessionItems[session]!.push(token);
  });
  const sessions = SequenceSet.from(sessionItems);
  const recommender = teacher === 'stan' ? new StanRecommender(sessions, vocabularySize, { sampleSize, k: neighbours }) : new SknnRecommender(sessions, vocabularySize, { sampleSize, k: neighbours });
  const indexed = clock();
  const positions = train.reduce((n, s) => n + Math.max(0, s.length - 1), 0);
  const allocate = (bytes: number) => (options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const ids = new Int32Array(allocate(positions * k * 4));
  const weights = new Float32Array(allocate(positions * k * 4));
  const rng = new Rng(seed);
  // The positions timed before predicting (all but the last where there are fewer).
  const sample = Math.min(positions - 1, Math.max(1000, Math.ceil(positions / 100)));
  let row = 0;
  let covered = 0;
  for (let s = 0; s < train.length; s++) {
    const tokens = train[s]!;
    const prefix: number[] = [];
    const session = sessionOf ? sessionOf[s]! : s;
    for (let t = 0; t + 1 < tokens.length; t++, row++) {
      if (maxSeconds !== undefined && row === sample) {
        const predicted = (indexed - started) / 1000 + ((clock() - indexed) / 1000) * (positions / row);
        if (predicted > maxSeconds) return undefined;
      }
      if (isItem(tokens[t]!)) prefix.push(tokens[t]!);
      if (prefix.length === 0 || (share < 1 && rng.next() >= share)) continue;
      const { items, scores } = recommender.sparseScores(Int32Array.from(prefix), session);
      if (items.length === 0) continue;
      const best = Array.from(items.keys()).sort((a, b) => scores[b]! - scores[a]! || items[a]! - items[b]!).slice(0, k);
      const total = best.reduce((sum, i) => sum + scores[i]!, 0);
      best.forEach((i, slot) => {
        ids[row * k + slot] = items[i]!;
        weights[row * k + slot] = scores[i]! / total;
      });
      covered++;
    }
  }
  return { k, teacher, sampleSize, neighbours, positions, covered, ids, weights };
}

/** Writes soft-targets.json and soft-targets.bin into `dir` (the shards' own, or another where they are read-only). */
export async function writeSoftTargets(dir: string, targets: SoftTargets, about: { share: number; seed: number; sequences: number; tokens: number }): Promise<void> {
  const file = 'soft-targets.bin';
  const bytes = Buffer.concat([Buffer.from(targets.ids.buffer, targets.ids.byteOffset, targets.ids.byteLength), Buffer.from(targets.weights.buffer, targets.weights.byteOffset, targets.weights.byteLength)]);
  const manifest = { format: SOFT_TARGETS_FORMAT, version: SOFT_TARGETS_VERSION, k: targets.k, teacher: targets.teacher, sampleSize: targets.sampleSize, neighbours: targets.neighbours, ...about, positions: targets.positions, covered: targets.covered, file };
  // The .bin first, the manifest last: a reader that finds the manifest finds its data.
  await writeFileAtomic(join(dir, file), bytes);
  await writeFileAtomic(join(dir, 'soft-targets.json'), `${JSON.stringify(manifest)}\n`);
}
