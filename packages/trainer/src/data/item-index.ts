/**
 * Maps raw item ids (strings, as they appear in the data) to dense indices 0..N-1 and back.
 * Dense indices follow the order of first appearance in the data the index is built from
 * (for research data: file order, then click order); rankings never depend on that order,
 * because ties are broken by popularity and then by raw id (see compareRawIds).
 */
import { SequenceSetBuilder, type SequenceSet } from './sequence-set.js';

export class ItemIndex {
  private readonly byRaw = new Map<string, number>();
  private readonly raw: string[] = [];

  /** Number of items. */
  get size(): number {
    return this.raw.length;
  }

  /** Raw ids by dense index. */
  get rawIds(): readonly string[] {
    return this.raw;
  }

  /** Dense index of `rawId`, adding it when new. */
  add(rawId: string | number): number {
    const key = String(rawId);
    let index = this.byRaw.get(key);
    if (index === undefined) {
      index = this.raw.length;
      this.byRaw.set(key, index);
      this.raw.push(key);
    }
    return index;
  }

  /** Dense index of `rawId`, or -1 when it is not in the index. */
  indexOf(rawId: string | number): number {
    return this.byRaw.get(String(rawId)) ?? -1;
  }

  /** Raw id of a dense index. */
  rawId(index: number): string {
    const raw = this.raw[index];
    if (raw === undefined) throw new RangeError(`ItemIndex: no item ${index} (size ${this.size})`);
    return raw;
  }

  /** An index of every item in `sequences` (raw ids), in order of first appearance. */
  static fromSequences(sequences: Iterable<ArrayLike<number>>): ItemIndex {
    const index = new ItemIndex();
    for (const sequence of sequences) for (let i = 0; i < sequence.length; i++) index.add(sequence[i]!);
    return index;
  }
}

const CANONICAL_INTEGER = /^(0|[1-9][0-9]*)$/;

/**
 * Order of raw ids for tie-breaking: "lower id first". Two canonical non-negative integers
 * compare numerically (any size); anything else compares by UTF-16 code units.
 */
export function compareRawIds(a: string, b: string): number {
  if (CANONICAL_INTEGER.test(a) && CANONICAL_INTEGER.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The dense value `encodeSequences(..., { keepUnknown: true })` gives an item the index does not know. */
export const UNKNOWN_ITEM = -1;

export interface EncodedSequences {
  /** Dense indices; items not in the index are dropped (sequences may get shorter or empty), or UNKNOWN_ITEM with `keepUnknown`. */
  sequences: SequenceSet;
  /** How many values were dropped because the index does not know them. */
  unknownItems: number;
}

/**
 * Encodes raw-id sequences into dense indices with `index`. Unknown items are dropped, as
 * SR-GNN's preprocessing drops test items that never occur in training, or, with
 * `keepUnknown`, kept in place as UNKNOWN_ITEM (so every test example can be counted).
 */
export function encodeSequences(raw: SequenceSet, index: ItemIndex, options: { keepUnknown?: boolean } = {}): EncodedSequences {
  const builder = new SequenceSetBuilder();
  let unknownItems = 0;
  for (const sequence of raw) {
    for (const value of sequence) {
      const dense = index.indexOf(value);
      if (dense < 0) {
        unknownItems++;
        if (options.keepUnknown) builder.pushValue(UNKNOWN_ITEM);
      } else builder.pushValue(dense);
    }
    builder.endSequence();
  }
  return { sequences: builder.build(), unknownItems };
}
