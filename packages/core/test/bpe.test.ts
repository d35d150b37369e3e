import { describe, expect, it } from 'vitest';
import { ByteLevelBPE, byteAlphabet, byteLevelWords, learnMerges } from '../src/bpe.js';

describe('byte-level BPE', () => {
  it('maps bytes to GPT-2 symbols: printable ASCII as itself, space to Ġ, newline to Ċ', () => {
    const alphabet = byteAlphabet();
    expect(alphabet).toHaveLength(256);
    expect(new Set(alphabet).size).toBe(256);
    expect(alphabet[0x61]).toBe('a');
    expect(alphabet[0x20]).toBe('Ġ');
    expect(alphabet[0x0a]).toBe('Ċ');
  });

  it('pre-tokenizes like GPT-2, over UTF-8 bytes', () => {
    expect(byteLevelWords("red mug's 42")).toEqual(['red', 'Ġmug', "'s", 'Ġ42']);
    expect(byteLevelWords('é')).toEqual(['Ã©']);
  });

  it('applies merges by rank, not by position', () => {
    const bpe = new ByteLevelBPE([
      ['u', 'g'],
      ['m', 'u'],
      ['m', 'ug'],
    ]);
    // (u g) outranks (m u): m + ug, then (m ug).
    expect(bpe.encode('mug')).toEqual(['mug']);
    expect(bpe.encode('mum')).toEqual(['mu', 'm']);
    expect(bpe.symbols().slice(256)).toEqual(['ug', 'mu', 'mug']);
  });

  it('learns the most frequent pairs first and stops below minCount', () => {
    const merges = learnMerges(
      [
        ['aa b', 3],
        ['ab', 1],
      ],
      10,
    );
    // words: "aa" x3, "Ġb" x3, "ab" x1 -> pairs: (a a) 3, (Ġ b) 3, (a b) 1; ties sort by key.
    expect(merges).toEqual([
      ['a', 'a'],
      ['Ġ', 'b'],
    ]);
  });
});
