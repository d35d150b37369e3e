/** A shard sent to a training worker as one token array (train/shard-message.ts) comes back as the same rows. */
import { describe, expect, it } from 'vitest';
import { packShard, unpackShard } from '../src/train/shard-message.js';

describe('shard messages', () => {
  it('carry the rows as one token array and give them back, the other fields untouched', () => {
    const rows = [Int32Array.from([1, 5, 9]), Int32Array.from([1, 7]), Int32Array.from([1, 4, 4, 8, 2])];
    const shard = { rows, rowSeeds: [3, 4, 5], negatives: Int32Array.from([9, 8]), negativeLogKQ: Float32Array.from([0.5, -1]), normalizer: 7, dropout: 0.2 };
    const message = packShard(shard);
    expect(Array.from(message.tokens)).toEqual([1, 5, 9, 1, 7, 1, 4, 4, 8, 2]);
    expect(Array.from(message.lengths)).toEqual([3, 2, 5]);
    expect('rows' in message).toBe(false);
    const back = structuredClone(message);
    const unpacked = unpackShard(back);
    expect(unpacked.rows.map((r) => Array.from(r))).toEqual(rows.map((r) => Array.from(r)));
    expect({ ...unpacked, rows: undefined }).toEqual({ ...shard, rows: undefined });
  });
});
