/**
 * Token shards: the training data of a run as files any trainer can read (the PyTorch one in
 * packages/trainer/torch reads them; `hunch shards` writes them), so the data is tokenised
 * once, by the same code the Node trainer uses, whatever engine trains on it.
 *
 *   DIR/shards.json   { format: "hunch-shards", version: 1, vocabulary, merges?, bos, pad,
 *                       itemCounts, events, sequences, tokens, train: [files], validation: [files],
 *                       validationScoring? }
 *   DIR/<split>-NNNNN.bin   sequences one after another: a uint32 length n, then n uint32
 *                           token ids (little-endian); ids index `vocabulary`, [BOS] first.
 *
 * Item tokens (the rankable candidates) are the vocabulary's `item:` tokens (core isItemToken).
 * `validationScoring` says how the validation sequences are scored, as the Node trainer scores
 * them; shards written before it existed lack it, and mean its default (ValidationScoring).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Vocabulary } from '@hunch/core';
import { readJson } from './checkpoint.js';
import { writeDirAtomic } from './lib/fs-atomic.js';

export const SHARDS_FORMAT = 'hunch-shards';
export const SHARDS_VERSION = 1;
/** Sequences per .bin file. */
const SEQUENCES_PER_SHARD = 65536;

/**
 * How validation scores its sequences (next-item/scorer.ts EvalOptions): from input position
 * `minPosition` on, every target or only each sequence's last, the sequence's earlier items
 * masked or not. Absent from a manifest: { minPosition: 1, lastOnly: false, excludeSeen: false }.
 */
export interface ValidationScoring {
  minPosition: number;
  lastOnly: boolean;
  excludeSeen: boolean;
}

export interface ShardsManifest {
  format: typeof SHARDS_FORMAT;
  version: typeof SHARDS_VERSION;
  vocabulary: string[];
  merges?: Array<[string, string]>;
  bos: number;
  pad: number;
  /** Item id -> events about it (the export's "popular" fallback list). */
  itemCounts: Record<string, number>;
  /** Events (or research clicks) the sequences came from. */
  events: number;
  /** Training sequences and their tokens. */
  sequences: number;
  tokens: number;
  train: string[];
  validation: string[];
  validationScoring?: ValidationScoring;
}

export interface TokenData {
  vocabulary: Vocabulary;
  itemCounts: Record<string, number>;
  events: number;
  train: ReadonlyArray<ArrayLike<number>>;
  validation: ReadonlyArray<ArrayLike<number>>;
  validationScoring: ValidationScoring;
}

/** One .bin file's bytes: [n, n ids] per sequence, uint32 little-endian. */
export function encodeSequences(sequences: ReadonlyArray<ArrayLike<number>>, vocabularySize: number): Uint8Array {
  const words = sequences.reduce((n, s) => n + 1 + s.length, 0);
  const out = new Uint8Array(words * 4);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const s of sequences) {
    view.setUint32(at, s.length, true);
    at += 4;
    for (let i = 0; i < s.length; i++) {
      const id = s[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < vocabularySize)) throw new Error(`token id ${id} is outside the vocabulary of ${vocabularySize}`);
      view.setUint32(at, id, true);
      at += 4;
    }
  }
  return out;
}

/** The sequences of one .bin file; throws naming the file when it is cut short. */
export function decodeSequences(bytes: Uint8Array, where: string): Int32Array[] {
  if (bytes.length % 4 !== 0) throw new Error(`${where}: ${bytes.length} bytes is not a whole number of uint32 words`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = bytes.length / 4;
  const out: Int32Array[] = [];
  for (let at = 0; at < words; ) {
    const n = view.getUint32(at * 4, true);
    if (at + 1 + n > words) throw new Error(`${where}: a sequence of ${n} tokens runs past the end of the file`);
    out.push(Int32Array.from({ length: n }, (_, i) => view.getUint32((at + 1 + i) * 4, true)));
    at += 1 + n;
  }
  return out;
}

/** Writes the shards to `dir` (to a temporary sibling first, renamed into place). */
export async function writeShards(dir: string, data: TokenData): Promise<ShardsManifest> {
  const { vocabulary } = data;
  const files = (split: string, sequences: ReadonlyArray<ArrayLike<number>>) =>
    Array.from({ length: Math.ceil(sequences.length / SEQUENCES_PER_SHARD) }, (_, i) => ({
      name: `${split}-${String(i).padStart(5, '0')}.bin`,
      sequences: sequences.slice(i * SEQUENCES_PER_SHARD, (i + 1) * SEQUENCES_PER_SHARD),
    }));
  const train = files('train', data.train);
  const validation = files('validation', data.validation);
  const manifest: ShardsManifest = {
    format: SHARDS_FORMAT,
    version: SHARDS_VERSION,
    vocabulary: [...vocabulary.tokens],
    ...(vocabulary.merges.length ? { merges: vocabulary.merges.map(([a, b]): [string, string] => [a, b]) } : {}),
    bos: vocabulary.bos,
    pad: vocabulary.pad,
    itemCounts: data.itemCounts,
    events: data.events,
    sequences: data.train.length,
    tokens: data.train.reduce((n, s) => n + s.length, 0),
    train: train.map((f) => f.name),
    validation: validation.map((f) => f.name),
    validationScoring: data.validationScoring,
  };
  await writeDirAtomic(dir, async (temp) => {
    for (const f of [...train, ...validation]) await writeFile(join(temp, f.name), encodeSequences(f.sequences, vocabulary.size));
    await writeFile(join(temp, 'shards.json'), `${JSON.stringify(manifest)}\n`);
  });
  return manifest;
}

/** Reads shards back: the manifest and the sequences of each split. */
export async function readShards(dir: string): Promise<{ manifest: ShardsManifest; train: Int32Array[]; validation: Int32Array[] }> {
  const path = join(dir, 'shards.json');
  const manifest = (await readJson(path)) as ShardsManifest;
  if (manifest?.format !== SHARDS_FORMAT || manifest.version !== SHARDS_VERSION) throw new Error(`${path}: not a ${SHARDS_FORMAT} version ${SHARDS_VERSION} manifest`);
  const read = async (names: string[]) => (await Promise.all(names.map(async (name) => decodeSequences(await readFile(join(dir, name)), join(dir, name))))).flat();
  return { manifest, train: await read(manifest.train), validation: await read(manifest.validation) };
}
