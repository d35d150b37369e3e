import { describe, expect, it } from 'vitest';
import { SequenceSet } from '../src/data/sequence-set.js';
import { countUnknown, leaveOneOut, sessionExamples } from '../src/eval/protocols.js';

const plain = (arrays: Iterable<Int32Array>) => [...arrays].map((a) => [...a]);

describe('sessionExamples', () => {
  it('gives n-1 examples per session, longest prefix first, sessions in order', () => {
    const sessions = SequenceSet.from([[1, 2, 3, 4], [5], [6, 7], []]);
    const examples = sessionExamples(sessions);
    expect(plain(examples.prefixes)).toEqual([[1, 2, 3], [1, 2], [1], [6]]);
    expect([...examples.targets]).toEqual([4, 3, 2, 7]);
    expect([...examples.sources]).toEqual([0, 0, 0, 2]);
  });

  it('keeps repeated items, as the protocol does', () => {
    const examples = sessionExamples(SequenceSet.from([[8, 8, 9]]));
    expect(plain(examples.prefixes)).toEqual([[8, 8], [8]]);
    expect([...examples.targets]).toEqual([9, 8]);
  });

  it('keeps the examples of unknown items (-1): the target stays -1, the prefix keeps only known items', () => {
    const examples = sessionExamples(SequenceSet.from([[1, -1, 2, 3], [-1, 4], [-1, -1]]));
    expect(plain(examples.prefixes)).toEqual([[1, 2], [1], [1], [], []]);
    expect([...examples.targets]).toEqual([3, 2, -1, 4, -1]);
    expect([...examples.sources]).toEqual([0, 0, 0, 1, 2]);
    expect(countUnknown(examples)).toEqual({ targets: 2, prefixes: 1 });
  });

  it('gives prefixes as views, not copies', () => {
    const sessions = SequenceSet.from([[1, 2, 3]]);
    expect(sessionExamples(sessions).prefixes[0]!.buffer).toBe(sessions.values.buffer);
  });
});

describe('leaveOneOut', () => {
  it('splits each user into train, validation and test; too-short users are left out', () => {
    const split = leaveOneOut(SequenceSet.from([[1, 2, 3, 4, 5], [6, 7], [8, 9, 10]]));
    expect(split.tooShort).toBe(1);
    expect(plain(split.train)).toEqual([[1, 2, 3], [8]]);
    expect(plain(split.validation.prefixes)).toEqual([[1, 2, 3], [8]]);
    expect([...split.validation.targets]).toEqual([4, 9]);
    expect(plain(split.test.prefixes)).toEqual([[1, 2, 3, 4], [8, 9]]);
    expect([...split.test.targets]).toEqual([5, 10]);
    expect([...split.test.sources]).toEqual([0, 2]);
    expect([...split.validation.sources]).toEqual([0, 2]);
  });
});
