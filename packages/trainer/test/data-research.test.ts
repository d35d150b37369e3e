import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareRawIds, encodeSequences, ItemIndex } from '../src/data/item-index.js';
import { readSequences, readSessions } from '../src/data/research.js';
import { countItems, SequenceSet } from '../src/data/sequence-set.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hunch-research-'));
const plain = (set: SequenceSet) => [...set].map((s) => [...s]);

describe('readSessions', () => {
  it('reads sessions, skips and counts malformed lines, ignores blank ones', async () => {
    const result = await readSessions(fixture('research-sessions.txt'));
    expect(plain(result.sessions)).toEqual([[10, 20, 30], [20, 30], [70], [30, 10]]);
    expect(result.skipped).toBe(3);
    expect(result.firstSkippedLines).toEqual([2, 5, 7]);
  });

  it('reads a gzipped sessions file', async () => {
    const path = join(dir, 'sessions.txt.gz');
    writeFileSync(path, gzipSync(readFileSync(fixture('research-sessions.txt'))));
    const result = await readSessions(path);
    expect(plain(result.sessions)).toEqual([[10, 20, 30], [20, 30], [70], [30, 10]]);
    expect(result.firstSkippedLines).toEqual([2, 5, 7]);
  });

  it('keeps only the first five skipped line numbers', async () => {
    const path = join(dir, 'many-bad.txt');
    writeFileSync(path, ['1 2', ...Array.from({ length: 8 }, () => 'bad')].join('\n'));
    const result = await readSessions(path);
    expect(result.skipped).toBe(8);
    expect(result.firstSkippedLines).toEqual([2, 3, 4, 5, 6]);
  });

  it('rejects ids beyond the 32-bit range', async () => {
    const path = join(dir, 'huge.txt');
    writeFileSync(path, '1 2\n1 2147483648\n2147483647\n');
    const result = await readSessions(path);
    expect(plain(result.sessions)).toEqual([[1, 2], [2147483647]]);
    expect(result.firstSkippedLines).toEqual([2]);
  });

  it('rejects an input without a valid session, naming the file', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n  \n');
    await expect(readSessions(empty)).rejects.toThrow(`No sessions in ${empty}: it is empty`);
    const bad = join(dir, 'all-bad.txt');
    writeFileSync(bad, 'a b\nc\n');
    await expect(readSessions(bad)).rejects.toThrow(`No sessions in ${bad}: all 2 non-blank lines are malformed`);
    await expect(readSessions(join(dir, 'nope.txt'))).rejects.toThrow(/Cannot read .*nope\.txt: no such file/);
  });
});

describe('readSequences', () => {
  it('reads user sequences, skipping lines without items or with bad tokens', async () => {
    const result = await readSequences(fixture('research-sequences.txt'));
    expect(result.users).toEqual(['1', '4', '6']);
    expect(plain(result.sequences)).toEqual([
      [10, 20, 30, 40],
      [20, 30, 10],
      [40, 50, 60, 70, 80],
    ]);
    expect(result.skipped).toBe(3);
    expect(result.firstSkippedLines).toEqual([2, 3, 6]);
  });
});

describe('SequenceSet', () => {
  it('stores sequences flat with offsets and gives views', () => {
    const set = SequenceSet.from([[1, 2], [], [3]]);
    expect(set.length).toBe(3);
    expect(set.totalLength).toBe(3);
    expect([...set.offsets]).toEqual([0, 2, 2, 3]);
    expect(set.get(0).buffer).toBe(set.values.buffer);
    expect(set.lengthOf(1)).toBe(0);
    expect(plain(set)).toEqual([[1, 2], [], [3]]);
  });

  it('counts item occurrences, repeats included', () => {
    expect([...countItems(SequenceSet.from([[0, 1, 1], [1, 2]]), 4)]).toEqual([1, 3, 1, 0]);
  });
});

describe('ItemIndex', () => {
  it('numbers items by first appearance and maps both ways', () => {
    const index = ItemIndex.fromSequences([
      [30, 10],
      [10, 20, 30],
    ]);
    expect(index.rawIds).toEqual(['30', '10', '20']);
    expect(index.size).toBe(3);
    expect(index.indexOf(20)).toBe(2);
    expect(index.indexOf('10')).toBe(1);
    expect(index.indexOf(99)).toBe(-1);
    expect(index.rawId(0)).toBe('30');
    expect(() => index.rawId(3)).toThrow(RangeError);
  });

  it('encodes raw sequences, dropping and counting unknown items', () => {
    const index = ItemIndex.fromSequences([[5, 6]]);
    const { sequences, unknownItems } = encodeSequences(SequenceSet.from([[6, 7, 5], [8]]), index);
    expect(plain(sequences)).toEqual([[1, 0], []]);
    expect(unknownItems).toBe(2);
  });

  it('compares raw ids numerically when both are integers', () => {
    expect(compareRawIds('9', '10')).toBeLessThan(0);
    expect(compareRawIds('10', '9')).toBeGreaterThan(0);
    expect(compareRawIds('12', '12')).toBe(0);
    expect(compareRawIds('123456789012345678901', '99')).toBeGreaterThan(0);
    expect(compareRawIds('b', 'a')).toBeGreaterThan(0);
    expect(compareRawIds('mugs-10', 'mugs-9')).toBeLessThan(0);
  });
});
