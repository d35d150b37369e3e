/**
 * The training sessions as the neighbourhood baselines read them: each session's distinct
 * items (in first-seen order), and an inverted index from item to the sessions holding it,
 * in training order (files are in date order, so a higher session number is more recent).
 */
import type { SequenceSet } from '../../data/sequence-set.js';

export class SessionIndex {
  /** Distinct items of each training session, flat with offsets: session s is items[start[s]..start[s+1]). */
  readonly start: Int32Array;
  readonly items: Int32Array;
  /** Sessions containing item i are postings[postingStart[i]..postingStart[i+1]), ascending. */
  private readonly postingStart: Int32Array;
  private readonly postings: Int32Array;
  /** Scratch marks, reused across calls. */
  private readonly seen: Int32Array;
  private stamp = 0;

  constructor(train: SequenceSet, numItems: number) {
    this.seen = new Int32Array(Math.max(numItems, train.length));
    this.start = new Int32Array(train.length + 1);
    const items: number[] = [];
    const postingCount = new Int32Array(numItems + 1);
    for (let s = 0; s < train.length; s++) {
      const mark = this.nextStamp();
      for (const item of train.get(s)) {
        if (this.seen[item] === mark) continue;
        this.seen[item] = mark;
        items.push(item);
        postingCount[item + 1]!++;
      }
      this.start[s + 1] = items.length;
    }
    this.items = Int32Array.from(items);
    for (let i = 0; i < numItems; i++) postingCount[i + 1]! += postingCount[i]!;
    this.postingStart = postingCount.slice();
    this.postings = new Int32Array(items.length);
    const fill = postingCount; // reused as write cursors
    for (let s = 0; s < train.length; s++) {
      for (let p = this.start[s]!; p < this.start[s + 1]!; p++) this.postings[fill[this.items[p]!]!++] = s;
    }
  }

  /** Distinct items in session `s`. */
  size(s: number): number {
    return this.start[s + 1]! - this.start[s]!;
  }

  /** log(sessions / sessions holding `item`): how much sharing it says about two sessions. */
  idf(item: number): number {
    const holding = this.postingStart[item + 1]! - this.postingStart[item]!;
    return Math.log((this.start.length - 1) / Math.max(1, holding));
  }

  /** The distinct items of `prefix`, in first-seen order. */
  distinct(prefix: ArrayLike<number>): number[] {
    const mark = this.nextStamp();
    const distinct: number[] = [];
    for (let i = 0; i < prefix.length; i++) {
      const item = prefix[i]!;
      if (this.seen[item] === mark) continue;
      this.seen[item] = mark;
      distinct.push(item);
    }
    return distinct;
  }

  /**
   * The `limit` most recent sessions containing any of `items`, most recent first, each with
   * the sum of `weights` of the items it contains (1 each without weights) and the index in
   * `items` of the last of them it contains, session `exclude` skipped (a training prefix's own
   * session): a merge from the ends of the posting lists.
   */
  recentCandidates(items: readonly number[], limit: number, weights?: readonly number[], exclude = -1): { sessions: number[]; overlaps: number[]; lastShared: number[] } {
    const cursors = items.map((item) => this.postingStart[item + 1]! - 1);
    const floors = items.map((item) => this.postingStart[item]!);
    const sessions: number[] = [];
    const overlaps: number[] = [];
    const lastShared: number[] = [];
    while (sessions.length < limit) {
      let newest = -1;
      for (let i = 0; i < items.length; i++) {
        if (cursors[i]! >= floors[i]!) newest = Math.max(newest, this.postings[cursors[i]!]!);
      }
      if (newest < 0) break;
      let overlap = 0;
      let last = -1;
      for (let i = 0; i < items.length; i++) {
        if (cursors[i]! >= floors[i]! && this.postings[cursors[i]!] === newest) {
          overlap += weights ? weights[i]! : 1;
          last = i;
          cursors[i]!--;
        }
      }
      if (newest === exclude) continue;
      sessions.push(newest);
      overlaps.push(overlap);
      lastShared.push(last);
    }
    return { sessions, overlaps, lastShared };
  }

  private nextStamp(): number {
    if (this.stamp === 2 ** 31 - 1) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
}
