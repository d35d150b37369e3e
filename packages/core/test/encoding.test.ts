import { describe, expect, it } from 'vitest';
import golden from './golden-encoding.json' with { type: 'json' };
import { ENCODING_VERSION, Vocabulary, buildVocabulary, byteAlphabet, encodeHistory, type EventName, type Merge } from '../src/index.js';

type GoldenEvent = { name: EventName; params: Record<string, string> };

describe('encoding golden vectors', () => {
  const vocabulary = new Vocabulary(golden.vocabulary, golden.merges.map((pair): Merge => [pair[0]!, pair[1]!]));

  it('is the encoding version the vectors were written for', () => {
    expect(golden.encodingVersion).toBe(ENCODING_VERSION);
  });

  for (const testCase of golden.cases) {
    it(testCase.name, () => {
      const events = testCase.events as GoldenEvent[];
      expect(['[BOS]', ...events.flatMap((event) => vocabulary.eventTokens(event))]).toEqual(testCase.tokens);
      expect(encodeHistory(events, vocabulary, testCase.maxLength)).toEqual(testCase.ids);
    });
  }
});

describe('Vocabulary', () => {
  it('builds deterministic ids: specials, actions, search words, items', () => {
    const events = [
      { name: 'view_item', params: { item_id: 'b' } },
      { name: 'search', params: { search_term: 'Mug' } },
      { name: 'view_item', params: { item_id: 'a' } },
      { name: 'view_item', params: { item_id: 'b' } },
    ] as const;
    const vocabulary = buildVocabulary(events);
    // One search of "mug": no pair repeats, so no merges; the text symbols are the 256 bytes.
    expect(vocabulary.merges).toEqual([]);
    expect(vocabulary.tokens.slice(0, 4)).toEqual(['[PAD]', '[BOS]', '[UNK]', '<search>']);
    expect(vocabulary.tokens.slice(4, 4 + 256)).toEqual(byteAlphabet().map((symbol) => `q:${symbol}`));
    expect(vocabulary.tokens.slice(260)).toEqual(['item:a', 'item:b']);
    expect(vocabulary.items()).toEqual([
      { tokenId: 260, itemId: 'a' },
      { tokenId: 261, itemId: 'b' },
    ]);
    const views = events.filter((event) => event.name === 'view_item');
    expect(buildVocabulary(views, { minCount: 2 }).tokens).toEqual(['[PAD]', '[BOS]', '[UNK]', 'item:b']);
  });

  it('learns search merges from repeated searches', () => {
    const search = (term: string) => ({ name: 'search' as const, params: { search_term: term } });
    const vocabulary = buildVocabulary([search('Red mug'), search('red MUG'), search('blue mug')]);
    // "Ġmug" x3 wins first; ties between equally frequent pairs go to the pair that sorts first.
    expect(vocabulary.merges.slice(0, 3)).toEqual([
      ['m', 'u'],
      ['mu', 'g'],
      ['Ġ', 'mug'],
    ]);
    expect(vocabulary.eventTokens(search('RED  mug!'))).toEqual(['<search>', 'q:red', 'q:Ġmug']);
  });

  it('rejects a vocabulary without the special tokens or with duplicates', () => {
    expect(() => new Vocabulary(['item:a'])).toThrow(/must start with/);
    expect(() => new Vocabulary(['[PAD]', '[BOS]', '[UNK]', 'x', 'x'])).toThrow(/twice/);
  });
});
