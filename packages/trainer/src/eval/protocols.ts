/**
 * Evaluation protocols of the shared research datasets (see /work/shared/datasets/README.md),
 * turning dense-encoded sequences into (prefix, target) examples. Prefixes are views into
 * the sequences, so building 60k examples copies nothing.
 */
import { UNKNOWN_ITEM } from '../data/item-index.js';
import { SequenceSetBuilder, type SequenceSet } from '../data/sequence-set.js';

export interface Examples {
  /**
   * Input of each example: dense item indices, oldest first, only the items training knows
   * (empty when it knows none of them). Views: do not modify.
   */
  prefixes: Int32Array[];
  /** The item to predict for each example; UNKNOWN_ITEM (-1) when training does not know it (a miss). */
  targets: Int32Array;
  /** Which input sequence (session or user, by position) each example comes from. */
  sources: Int32Array;
}

/**
 * Session protocol (SR-GNN, NARM, GCE-GNN): a session s of length n gives the n-1 examples
 * (prefix s[:-i], target s[-i]) for i = 1..n-1, in that order (longest prefix first),
 * sessions in input order. Sessions shorter than 2 give none.
 *
 * Items unknown to training (UNKNOWN_ITEM, from encodeSequences' `keepUnknown`) still make
 * their examples, as the published protocols count every one: an unknown target stays
 * UNKNOWN_ITEM (a miss), and unknown items are left out of the prefix, which is empty when
 * training knows none of its items (countUnknown counts both kinds). On diginetica there
 * are none.
 */
export function sessionExamples(sessions: SequenceSet): Examples {
  let count = 0;
  for (let s = 0; s < sessions.length; s++) count += Math.max(0, sessions.lengthOf(s) - 1);
  const prefixes: Int32Array[] = new Array<Int32Array>(count);
  const targets = new Int32Array(count);
  const sources = new Int32Array(count);
  let e = 0;
  for (let s = 0; s < sessions.length; s++) {
    const session = sessions.get(s);
    const known = session.includes(UNKNOWN_ITEM) ? session.filter((item) => item !== UNKNOWN_ITEM) : session;
    // Known items strictly before position p, for each p: the prefix is a view of `known`.
    let knownBefore = known.length;
    for (let i = 1; i < session.length; i++, e++) {
      if (session[session.length - i] !== UNKNOWN_ITEM) knownBefore--;
      prefixes[e] = known.subarray(0, knownBefore);
      targets[e] = session[session.length - i]!;
      sources[e] = s;
    }
  }
  return { prefixes, targets, sources };
}

/** Examples training cannot fully see: kept, and counted apart. */
export interface UnknownExamples {
  /** Target unknown to training: counted as a miss. */
  targets: number;
  /** Target known, but none of the prefix's items: ranked by training popularity. */
  prefixes: number;
}

/** How many examples have an unknown target, and how many a known target after a wholly unknown prefix. */
export function countUnknown(examples: Examples): UnknownExamples {
  let targets = 0;
  let prefixes = 0;
  examples.targets.forEach((target, e) => {
    if (target === UNKNOWN_ITEM) targets++;
    else if (examples.prefixes[e]!.length === 0) prefixes++;
  });
  return { targets, prefixes };
}

export interface LeaveOneOutSplit {
  /** Each user's items but the last two: what baselines and models are fitted on. */
  train: SequenceSet;
  /** Per user: prefix = all but the last two items, target = the second-to-last item. */
  validation: Examples;
  /** Per user: prefix = all but the last item, target = the last item. */
  test: Examples;
  /** Users with fewer than 3 items: they give no example and are left out of `train`. */
  tooShort: number;
}

/**
 * Leave-one-out protocol (S3-Rec, ICLRec, TIGER): per user, in input order, the last item
 * is the test target and the second-to-last the validation target. Example i of
 * `validation` and of `test` come from the same user (`sources` holds the user's position).
 * `train` holds one sequence per kept user, in the same order.
 */
export function leaveOneOut(sequences: SequenceSet): LeaveOneOutSplit {
  const kept: number[] = [];
  for (let u = 0; u < sequences.length; u++) if (sequences.lengthOf(u) >= 3) kept.push(u);
  const train = new SequenceSetBuilder();
  const validation: Examples = {
    prefixes: new Array<Int32Array>(kept.length),
    targets: new Int32Array(kept.length),
    sources: Int32Array.from(kept),
  };
  const test: Examples = {
    prefixes: new Array<Int32Array>(kept.length),
    targets: new Int32Array(kept.length),
    sources: Int32Array.from(kept),
  };
  kept.forEach((u, e) => {
    const items = sequences.get(u);
    const n = items.length;
    train.push(items.subarray(0, n - 2));
    validation.prefixes[e] = items.subarray(0, n - 2);
    validation.targets[e] = items[n - 2]!;
    test.prefixes[e] = items.subarray(0, n - 1);
    test.targets[e] = items[n - 1]!;
  });
  return { train: train.build(), validation, test, tooShort: sequences.length - kept.length };
}
