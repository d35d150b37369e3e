import { describe, expect, it } from 'vitest';
import {
  itemIdShardFile,
  itemIdShardOf,
  itemTokenShardFile,
  joinVocabulary,
  parseItemIdShard,
  parseItemTokenShard,
  parseManifest,
  splitVocabulary,
  vocabularySize,
} from '../src/index.js';
import { manifestWith } from './manifest-fixture.js';

const head = ['[PAD]', '[BOS]', '[UNK]', '<add_to_cart>', 'q:a'];
const ids = Array.from({ length: 23 }, (_, i) => `sku-${String(i).padStart(3, '0')}`);
const tokens = [...head, ...ids.map((id) => `item:${id}`)];
const layout = { threshold: 0, tokensPerShard: 5, idsPerShard: 4 };

describe('splitVocabulary', () => {
  it('keeps a vocabulary under the threshold whole in hunch.json', () => {
    const split = splitVocabulary(tokens);
    expect(split).toEqual({ inline: tokens, shards: new Map() });
  });

  it('past the threshold: hunch.json keeps the tokens before the items, shards map tokens to products and back', () => {
    const split = splitVocabulary(tokens, layout);
    expect(split.inline).toEqual(head);
    expect(split.items).toEqual({ first: head.length, count: ids.length, tokensPerShard: 5, idShards: 6 });
    // token -> product: ranges of 5 tokens, the last one short.
    const ranges = Array.from({ length: 5 }, (_, shard) => parseItemTokenShard(split.shards.get(itemTokenShardFile(shard))!, 'x', shard < 4 ? 5 : 3));
    expect(joinVocabulary(split.inline, ranges)).toEqual(tokens);
    // product -> token: every product in the shard its id hashes to, with its token id.
    for (const [i, id] of ids.entries()) {
      const shard = parseItemIdShard(split.shards.get(itemIdShardFile(itemIdShardOf(id, split.items!)))!, 'y', split.items!);
      expect(shard.get(id)).toBe(head.length + i);
    }
  });

  it('leaves item tokens before the last non-item token in hunch.json', () => {
    const mixed = [...head.slice(0, 3), 'item:early', ...head.slice(3), ...ids.map((id) => `item:${id}`)];
    const split = splitVocabulary(mixed, layout);
    expect(split.inline).toEqual(mixed.slice(0, head.length + 1));
    expect(split.items!.first).toBe(head.length + 1);
  });

  it('refuses shards that are not what they claim', () => {
    const split = splitVocabulary(tokens, layout);
    expect(() => parseItemTokenShard('["a"]', 'vocabulary/tokens-0000.json', 5)).toThrow('vocabulary/tokens-0000.json: expected an array of 5 item ids');
    expect(() => parseItemIdShard('{"a": 2}', 'vocabulary/ids-0001.json', split.items!)).toThrow('vocabulary/ids-0001.json: token 2 of "a" is outside the item tokens');
  });
});

describe('parseManifest with sharded item tokens', () => {
  const split = splitVocabulary(tokens, layout);
  const files = Object.fromEntries([['catalog.json', 0], ...[...split.shards.keys()].map((path) => [path, 0])].map(([path]) => [path, { sha256: 'ab'.repeat(32), bytes: 10 }]));
  const manifest = manifestWith({ vocabulary: split.inline, itemVocabulary: split.items, merges: [], files });

  it('accepts it; the vocabulary size counts the sharded tokens', () => {
    expect(vocabularySize(parseManifest(manifest))).toBe(tokens.length);
  });

  it('names a shard missing from files, and a first that disagrees with the vocabulary', () => {
    const { [itemIdShardFile(3)]: _, ...fewer } = files;
    expect(() => parseManifest({ ...manifest, files: fewer })).toThrow('hunch.json: files must list vocabulary/ids.sha256 (or every shard: vocabulary/ids-0003.json is missing) (itemVocabulary)');
    expect(() => parseManifest({ ...manifest, itemVocabulary: { ...split.items, first: 4 } })).toThrow('hunch.json: itemVocabulary.first is 4 but vocabulary lists 5 tokens');
    expect(() => parseManifest({ ...manifest, itemVocabulary: { ...split.items, count: 0 } })).toThrow('hunch.json: itemVocabulary.count must be a positive integer');
  });
});
