import { describe, expect, it } from 'vitest';
import golden from './golden-encoding.json' with { type: 'json' };
import { ENCODING_VERSION, Vocabulary, buildVocabulary, encodeHistory, eventTokens, type EventName } from '../src/index.js';

type GoldenEvent = { name: EventName; params: Record<string, string> };

describe('encoding golden vectors', () => {
  const vocabulary = new Vocabulary(golden.vocabulary);

  it('is the encoding version the vectors were written for', () => {
    expect(golden.encodingVersion).toBe(ENCODING_VERSION);
  });

  for (const testCase of golden.cases) {
    it(testCase.name, () => {
      const events = testCase.events as GoldenEvent[];
      expect(['[BOS]', ...events.flatMap(eventTokens)]).toEqual(testCase.tokens);
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
    expect(vocabulary.tokens).toEqual(['[PAD]', '[BOS]', '[UNK]', '<search>', 'q:mug', 'item:a', 'item:b']);
    expect(vocabulary.items()).toEqual([
      { tokenId: 5, itemId: 'a' },
      { tokenId: 6, itemId: 'b' },
    ]);
    expect(buildVocabulary(events, 2).tokens).toEqual(['[PAD]', '[BOS]', '[UNK]', 'item:b']);
  });

  it('rejects a vocabulary without the special tokens or with duplicates', () => {
    expect(() => new Vocabulary(['item:a'])).toThrow(/must start with/);
    expect(() => new Vocabulary(['[PAD]', '[BOS]', '[UNK]', 'x', 'x'])).toThrow(/twice/);
  });
});
