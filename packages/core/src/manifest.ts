/**
 * `hunch.json`: the manifest beside a model's Hugging Face files. It tells the SDK
 * how to turn events into tokens and tokens back into products.
 */

import { ENCODING_VERSION } from './encoding.js';

export const MANIFEST_FILE = 'hunch.json';
export const MANIFEST_FORMAT = 'hunch-model';
export const MANIFEST_FORMAT_VERSION = 1;

/** A product the SDK can display without asking the shop. */
export interface CatalogItem {
  id: string;
  title: string;
  url: string;
  image?: string;
  price?: number;
  category?: string;
}

export interface ModelFileEntry {
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  bytes: number;
}

export interface HunchManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: typeof MANIFEST_FORMAT_VERSION;
  /** Changes whenever the weights change (derived from their hash). */
  version: string;
  createdAt: string;
  encoding: {
    version: number;
    /** The model's context length in tokens (its n_positions). */
    maxLength: number;
  };
  /** Token strings by id: actions, search text pieces and items. */
  vocabulary: string[];
  /** Byte-level BPE merges for search text, in rank order (see bpe.ts). */
  merges: Array<[string, string]>;
  /** Paths relative to the model directory. */
  files: Record<string, ModelFileEntry>;
  catalog: CatalogItem[];
  /** Item ids, most popular first: what to show when there is no model. */
  popular: string[];
  training: {
    events: number;
    sequences: number;
    steps: number;
    finalLoss: number;
    seed: number;
  };
}

/** Checks the fields the SDK relies on, so a broken manifest fails with a clear message. */
export function parseManifest(input: unknown): HunchManifest {
  if (typeof input !== 'object' || input === null) throw new Error('hunch.json: not a JSON object');
  const manifest = input as Partial<HunchManifest>;
  if (manifest.format !== MANIFEST_FORMAT) throw new Error(`hunch.json: format must be "${MANIFEST_FORMAT}"`);
  if (manifest.formatVersion !== MANIFEST_FORMAT_VERSION) {
    throw new Error(`hunch.json: formatVersion ${String(manifest.formatVersion)} is not supported (expected ${MANIFEST_FORMAT_VERSION})`);
  }
  if (typeof manifest.version !== 'string') throw new Error('hunch.json: version is missing');
  if (!manifest.encoding || !Number.isInteger(manifest.encoding.maxLength)) throw new Error('hunch.json: encoding.maxLength is missing');
  if (manifest.encoding.version !== ENCODING_VERSION) {
    throw new Error(`hunch.json: encoding version ${String(manifest.encoding.version)} differs from this SDK's ${ENCODING_VERSION}`);
  }
  if (!Array.isArray(manifest.vocabulary) || !manifest.vocabulary.every((t) => typeof t === 'string')) {
    throw new Error('hunch.json: vocabulary must be an array of strings');
  }
  if (!Array.isArray(manifest.merges) || !manifest.merges.every((m) => Array.isArray(m) && m.length === 2 && m.every((p) => typeof p === 'string'))) {
    throw new Error('hunch.json: merges must be an array of string pairs');
  }
  if (!Array.isArray(manifest.catalog)) throw new Error('hunch.json: catalog must be an array');
  if (!Array.isArray(manifest.popular)) throw new Error('hunch.json: popular must be an array');
  return manifest as HunchManifest;
}
