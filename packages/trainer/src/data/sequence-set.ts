/**
 * Compact storage for many short integer sequences (sessions, user histories): one flat
 * Int32Array plus offsets, so a million clicks cost 4 MB and no per-session objects.
 */

export class SequenceSet {
  /**
   * @param values all sequences back to back
   * @param offsets `length + 1` entries; sequence i is `values[offsets[i]..offsets[i+1])`
   */
  constructor(
    readonly values: Int32Array,
    readonly offsets: Int32Array,
  ) {
    if (offsets.length === 0 || offsets[0] !== 0 || offsets[offsets.length - 1] !== values.length) {
      throw new Error('SequenceSet: offsets must start at 0 and end at values.length');
    }
  }

  /** Number of sequences. */
  get length(): number {
    return this.offsets.length - 1;
  }

  /** Total number of values over all sequences. */
  get totalLength(): number {
    return this.values.length;
  }

  /** Sequence i as a view (no copy): do not modify it. */
  get(i: number): Int32Array {
    return this.values.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }

  /** Length of sequence i. */
  lengthOf(i: number): number {
    return this.offsets[i + 1]! - this.offsets[i]!;
  }

  *[Symbol.iterator](): IterableIterator<Int32Array> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /** A set from plain arrays (tests, small data). */
  static from(sequences: Iterable<ArrayLike<number>>): SequenceSet {
    const builder = new SequenceSetBuilder();
    for (const sequence of sequences) builder.push(sequence);
    return builder.build();
  }
}

/** Appends sequences into growing buffers; `build()` trims them into a SequenceSet. */
export class SequenceSetBuilder {
  private values: Int32Array = new Int32Array(1024);
  private offsets: Int32Array = new Int32Array(256);
  private valueCount = 0;
  private sequenceCount = 0;

  /** Appends one sequence (copied). */
  push(sequence: ArrayLike<number>): void {
    this.reserve(sequence.length);
    for (let i = 0; i < sequence.length; i++) this.values[this.valueCount++] = sequence[i]!;
    this.endSequence();
  }

  /** Appends a value to the sequence being built; close it with `endSequence()`. */
  pushValue(value: number): void {
    this.reserve(1);
    this.values[this.valueCount++] = value;
  }

  endSequence(): void {
    if (this.sequenceCount + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.sequenceCount + 2);
    this.offsets[++this.sequenceCount] = this.valueCount;
  }

  /** Drops the values pushed since the last `endSequence()`. */
  discardSequence(): void {
    this.valueCount = this.offsets[this.sequenceCount]!;
  }

  get length(): number {
    return this.sequenceCount;
  }

  build(): SequenceSet {
    return new SequenceSet(
      this.values.slice(0, this.valueCount),
      this.offsets.slice(0, this.sequenceCount + 1),
    );
  }

  private reserve(extra: number): void {
    if (this.valueCount + extra > this.values.length) this.values = grow(this.values, this.valueCount + extra);
  }
}

function grow(array: Int32Array, needed: number): Int32Array {
  const bigger = new Int32Array(Math.max(needed, array.length * 2));
  bigger.set(array);
  return bigger;
}

/**
 * How often each item (dense index < numItems) occurs over all sequences, repeats
 * included: the training popularity used by the popularity baseline and to break ties.
 */
export function countItems(sequences: SequenceSet, numItems: number): Int32Array {
  const counts = new Int32Array(numItems);
  for (const item of sequences.values) counts[item]!++;
  return counts;
}
