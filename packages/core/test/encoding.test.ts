import { describe, expect, it } from 'vitest';
import golden from './golden-encoding.json' with { type: 'json' };
import {
  ENCODING_VERSION,
  Vocabulary,
  VocabularyCounts,
  buildVocabulary,
  byteAlphabet,
  encodeHistory,
  learnMerges,
  type EventName,
  type Merge,
} from '../src/index.js';

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

describe('exposures', () => {
  const vocabulary = new Vocabulary(golden.vocabulary, golden.merges.map((pair): Merge => [pair[0]!, pair[1]!]));

  it('encode to nothing, so an experiment never changes what the model sees', () => {
    const exposure = { name: 'experience_impression' as const, params: { experiment_id: 'recs-home', variant_id: 'model' } };
    for (const testCase of golden.cases) {
      const events = testCase.events as GoldenEvent[];
      const exposed = events.flatMap((event) => [exposure, event, exposure]);
      expect(encodeHistory(exposed, vocabulary, testCase.maxLength)).toEqual(testCase.ids);
    }
    expect(buildVocabulary([exposure]).tokens).toEqual(buildVocabulary([]).tokens);
  });
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
    expect(() => new Vocabulary(['<|endoftext|>', 'item:a'])).toThrow(/must start with/); // no [UNK]
    expect(() => new Vocabulary(['[PAD]', '[BOS]', '[UNK]', 'x', 'x'])).toThrow(/twice/);
  });

  it('counts events one at a time into the same vocabulary as buildVocabulary', () => {
    const events = [
      { name: 'search', params: { search_term: 'red mug' } },
      { name: 'view_item', params: { item_id: 'b' } },
      { name: 'add_to_cart', params: { item_id: 'a' } },
      { name: 'search', params: { search_term: 'Red MUGS' } },
    ] as const;
    const counts = new VocabularyCounts();
    for (const event of events) counts.add(event);
    expect(counts.tokens).toEqual(new Map([['<search>', 2], ['item:b', 1], ['<add_to_cart>', 1], ['item:a', 1]]));
    expect(counts.searches).toEqual(new Map([['red mug', 1], ['red mugs', 1]]));
    const built = buildVocabulary(events);
    expect(counts.build().tokens).toEqual(built.tokens);
    expect(counts.build().merges).toEqual(built.merges);
  });
});

describe('Vocabulary extended from a GPT-2', () => {
  // A toy GPT-2 vocabulary: byte symbols, merges learned from some text, <|endoftext|> last.
  const merges = learnMerges([['red mug', 3], ['blue mug', 2]], 20);
  const symbols = [...byteAlphabet(), ...merges.map(([a, b]) => a + b)];
  const base = { tokens: [...symbols, '<|endoftext|>'], merges };
  const events = [
    { name: 'view_item', params: { item_id: 'b' } },
    { name: 'search', params: { search_term: 'Red mug!' } },
    { name: 'add_to_cart', params: { item_id: 'a' } },
    { name: 'purchase', params: {} },
  ] as const;
  const counts = new VocabularyCounts();
  for (const event of events) counts.add(event);
  const vocabulary = counts.extend(base);

  it('keeps every base token at its id and appends [UNK], actions and items', () => {
    expect(vocabulary.tokens.slice(0, base.tokens.length)).toEqual(base.tokens);
    expect(vocabulary.tokens.slice(base.tokens.length)).toEqual(['[UNK]', '<add_to_cart>', '<purchase>', '<search>', 'item:a', 'item:b']);
    expect(vocabulary.bos).toBe(base.tokens.length - 1);
    expect(vocabulary.pad).toBe(vocabulary.bos);
    expect(vocabulary.unk).toBe(base.tokens.length);
    expect(vocabulary.textPrefix).toBe('');
  });

  it('splits search text into the base BPE tokens and starts histories with <|endoftext|>', () => {
    expect(vocabulary.eventTokens(events[1])).toEqual(['<search>', 'red', 'Ġmug']);
    const ids = encodeHistory([...events, { name: 'view_item', params: { item_id: 'zzz' } }], vocabulary, 16);
    const id = (token: string) => vocabulary.tokens.indexOf(token);
    expect(ids).toEqual([vocabulary.bos, id('item:b'), id('<search>'), id('red'), id('Ġmug'), id('<add_to_cart>'), id('item:a'), id('<purchase>'), vocabulary.unk]);
    expect(id('red')).toBeLessThan(base.tokens.length);
  });

  it('extends a Hunch vocabulary with new items only, keeping its merges', () => {
    const hunch = buildVocabulary(events);
    const more = new VocabularyCounts();
    more.add({ name: 'view_item', params: { item_id: 'c' } });
    more.add({ name: 'view_item', params: { item_id: 'a' } });
    const extended = more.extend(hunch);
    expect(extended.tokens).toEqual([...hunch.tokens, 'item:c']);
    expect(extended.merges).toEqual(hunch.merges);
    expect(extended.textPrefix).toBe('q:');
  });

  it('grows a Hunch vocabulary with new actions and the search pieces of new words, old ids and merges first', () => {
    const hunch = buildVocabulary(events);
    const more = new VocabularyCounts();
    for (let i = 0; i < 3; i++) more.add({ name: 'search', params: { search_term: 'teapot' } });
    more.add({ name: 'view_cart', params: {} });
    more.add({ name: 'view_item', params: { item_id: 'c' } });
    const extended = more.extend(hunch);
    expect(extended.tokens.slice(0, hunch.tokens.length)).toEqual(hunch.tokens);
    expect(extended.merges.slice(0, hunch.merges.length)).toEqual(hunch.merges);
    const added = extended.tokens.slice(hunch.tokens.length);
    expect(added[0]).toBe('<view_cart>');
    expect(added.at(-1)).toBe('item:c');
    // "teapot" was new: it is now one piece, and the old text still cuts as it did.
    expect(extended.eventTokens({ name: 'search', params: { search_term: 'teapot' } })).toEqual(['<search>', 'q:teapot']);
    expect(extended.eventTokens(events[1])).toEqual(hunch.eventTokens(events[1]));
    expect(added.filter((token) => token.startsWith('q:')).length).toBe(extended.merges.length - hunch.merges.length);
  });
});
