/**
 * A shard (next-item/loss.ts) as a message to a training worker: its rows as one token
 * array and their lengths, so that postMessage clones two typed arrays instead of one per
 * row (hundreds a shard, each a new ArrayBuffer on both sides).
 */
import type { ShardInput } from '../next-item/loss.js';

export type ShardMessage = Omit<ShardInput, 'rows'> & { tokens: Int32Array; lengths: Int32Array };

export function packShard({ rows, ...rest }: ShardInput): ShardMessage {
  const lengths = Int32Array.from(rows, (r) => r.length);
  const tokens = new Int32Array(lengths.reduce((n, l) => n + l, 0));
  let at = 0;
  for (const r of rows) {
    tokens.set(r, at);
    at += r.length;
  }
  return { ...rest, tokens, lengths };
}

/** The shard again, its rows views into the one token array. */
export function unpackShard({ tokens, lengths, ...rest }: ShardMessage): ShardInput {
  const rows: Int32Array[] = [];
  let at = 0;
  for (const length of lengths) {
    rows.push(tokens.subarray(at, at + length));
    at += length;
  }
  return { ...rest, rows };
}
