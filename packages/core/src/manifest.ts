/**
 * `hunch.json`: the manifest beside a model's Hugging Face files. It tells the SDK
 * how to turn events into tokens and tokens back into products.
 */

import { CATALOG_FILE } from './catalog.js';
import { CATALOG_INDEX_FILE } from './catalog-shards.js';
import { ENCODING_VERSION } from './encoding.js';
import { checkItemVocabulary, ITEM_ID_SHARD_LISTING, ITEM_TOKEN_SHARD_LISTING, itemTokenShardCount, type ItemVocabularyManifest } from './item-vocabulary.js';
import { ONNX_VARIANTS, ONNX_VARIANT_FILES, type OnnxVariant } from './model-contract.js';
import { SHARD_FAMILIES, SHARD_LISTING_RECORD_BYTES } from './shard-listing.js';

export const MANIFEST_FILE = 'hunch.json';
export const MANIFEST_FORMAT = 'hunch-model';
/** 2: the catalog and the popular list moved out of hunch.json into catalog.json (catalog.ts). */
export const MANIFEST_FORMAT_VERSION = 2;

export interface ModelFileEntry {
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  bytes: number;
}

/**
 * `hunch.json` `onnx`: which variant is in which file, the cache shape, the heads baked
 * into the logits, and the repeat bonus the caller must add itself.
 */
export interface OnnxManifest {
  /** Variant -> file (transformers.js dtype fp32 / q8 / q4), always at ONNX_VARIANT_FILES's path. */
  variants: Partial<Record<OnnxVariant, string>>;
  /** past_key_values.{i}.key/value and present.{i}.key/value: [batch, heads, length, headDim]. */
  cache: { layers: number; heads: number; headDim: number };
  /** Heads already in `logits`: the item bias and cosine scoring (its scale, or null). */
  itemBias: boolean;
  cosineScale: number | null;
  /**
   * The repeat bonus, or null: the output [batch, seq, 1] whose value at (b, t) is added
   * to the logit of every item token among row b's tokens 0..t (each item once).
   */
  repeat: { output: string; addTo: 'history-items' } | null;
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
  /**
   * Token strings by id: actions, search text pieces and items; with `itemVocabulary`, only the
   * tokens before its item tokens (item-vocabulary.ts).
   */
  vocabulary: string[];
  /** A big shop's item tokens, served as shards listed in `files` (item-vocabulary.ts). Absent: `vocabulary` is whole. */
  itemVocabulary?: ItemVocabularyManifest;
  /** Byte-level BPE merges for search text, in rank order (see bpe.ts). */
  merges: Array<[string, string]>;
  /**
   * Paths relative to the model directory; always catalog.json (the products and the popular list,
   * catalog.ts) or catalog/index.json. A shard family is listed by its listing (shard-listing.ts),
   * whose entries are its shards' hashes, or (exports from before listings) shard by shard.
   */
  files: Record<string, ModelFileEntry>;
  training: {
    events: number;
    sequences: number;
    steps: number;
    finalLoss: number;
    seed: number;
  };
  /** The ONNX graphs; absent in manifests from before quantized exports (then only onnx/model.onnx, fp32). */
  onnx?: OnnxManifest;
  /**
   * The strategy policy shipped with the model (core's PolicyFile, `hunch export --policy`): its path,
   * listed in `files` with its sha256 and bytes like every other file. Absent: there is none, and
   * the SDK decides uniformly (it requests no policy file).
   */
  policy?: string;
  /**
   * The session purchase model fitted with the model (core's SessionPurchaseModel, intent/session-purchase.ts;
   * `hunch train` on events with purchases): its path, listed in `files` like `policy`. Absent: none was
   * fitted, and intent().purchaseProbability is the model's next-step value.
   */
  purchase?: string;
  /**
   * The attribute table (core's item-attributes.ts, ATTRIBUTE_FILE) of a model whose items are
   * composed from catalog attributes: its path, listed in `files`. The worker scores catalog
   * products the model never saw from it. Absent: only the model's own items are scored.
   */
  attributes?: string;
}

/** The vocabulary's size: hunch.json's tokens and its sharded item tokens. */
export const vocabularySize = (manifest: Pick<HunchManifest, 'vocabulary' | 'itemVocabulary'>): number => manifest.vocabulary.length + (manifest.itemVocabulary?.count ?? 0);

/** Checks the fields the SDK relies on, so a broken manifest fails with a clear message. */
export function parseManifest(input: unknown): HunchManifest {
  if (typeof input !== 'object' || input === null) throw new Error('hunch.json: not a JSON object');
  const manifest = input as Partial<HunchManifest>;
  if (manifest.format !== MANIFEST_FORMAT) throw new Error(`hunch.json: format must be "${MANIFEST_FORMAT}"`);
  if (manifest.formatVersion !== MANIFEST_FORMAT_VERSION) {
    const why = manifest.formatVersion === 1 ? ': export the model again with this version of the trainer (hunch export)' : '';
    throw new Error(`hunch.json: formatVersion ${String(manifest.formatVersion)} is not supported (expected ${MANIFEST_FORMAT_VERSION})${why}`);
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
  if (!isObject(manifest.files)) throw new Error('hunch.json: files must be an object of path -> { sha256, bytes }');
  // One catalog file, or the index of its shards (catalog-shards.ts).
  const catalog = manifest.files[CATALOG_FILE] ?? manifest.files[CATALOG_INDEX_FILE];
  if (!isObject(catalog) || typeof catalog.sha256 !== 'string' || !Number.isInteger(catalog.bytes)) {
    throw new Error(`hunch.json: files must list ${CATALOG_FILE} (or ${CATALOG_INDEX_FILE}) with its sha256 and bytes`);
  }
  if (manifest.itemVocabulary !== undefined) checkItemVocabulary(manifest.itemVocabulary, manifest.vocabulary, manifest.files);
  checkShardListings(manifest.files, manifest.itemVocabulary);
  if (manifest.onnx !== undefined) checkOnnx(manifest.onnx);
  if (manifest.policy !== undefined) checkFileEntry('policy', manifest.policy, manifest.files);
  if (manifest.purchase !== undefined) checkFileEntry('purchase', manifest.purchase, manifest.files);
  if (manifest.attributes !== undefined) checkFileEntry('attributes', manifest.attributes, manifest.files);
  return manifest as HunchManifest;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPositiveInteger = (value: unknown) => Number.isInteger(value) && (value as number) > 0;

/** Throws unless each shard listing in `files` is a whole number of entries (for the item vocabulary's: one per shard). */
function checkShardListings(files: Record<string, unknown>, items: ItemVocabularyManifest | undefined): void {
  const expected: Record<string, number | undefined> = items ? { [ITEM_TOKEN_SHARD_LISTING]: itemTokenShardCount(items), [ITEM_ID_SHARD_LISTING]: items.idShards } : {};
  for (const { listing } of SHARD_FAMILIES) {
    if (!Object.hasOwn(files, listing)) continue;
    const entry = files[listing];
    const size = isObject(entry) && Number.isInteger(entry.bytes) ? (entry.bytes as number) : -1;
    const shards = expected[listing];
    const whole = size > 0 && size % SHARD_LISTING_RECORD_BYTES === 0;
    if (!whole || (shards !== undefined && size !== shards * SHARD_LISTING_RECORD_BYTES) || !isObject(entry) || typeof entry.sha256 !== 'string') {
      const count = shards === undefined ? 'a whole number of shards' : `${shards} shards`;
      throw new Error(`hunch.json: files.${listing} must give its sha256 and bytes: ${SHARD_LISTING_RECORD_BYTES} per shard, ${count}`);
    }
  }
}

/**
 * Throws unless `value` (the field `field`: policy, purchase) names a file inside the model
 * directory (a relative path: no `..`, no scheme, no query) that `files` lists with its sha256
 * (64 hex digits) and bytes.
 */
function checkFileEntry(field: string, value: unknown, files: Record<string, unknown>): void {
  const path = typeof value === 'string' && /^[\w.-]+(\/[\w.-]+)*$/.test(value) && !/(^|\/)\.\.?(\/|$)/.test(value) ? value : undefined;
  const entry = path !== undefined && Object.hasOwn(files, path) ? files[path] : undefined;
  if (!isObject(entry) || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(entry.sha256) || !Number.isInteger(entry.bytes)) {
    throw new Error(`hunch.json: ${field} must name a file of the model directory that files lists with its sha256 and bytes, got ${JSON.stringify(value)}`);
  }
}

/** Throws naming the first field of `onnx` the SDK could not act on. */
function checkOnnx(onnx: unknown): void {
  if (!isObject(onnx)) throw new Error('hunch.json: onnx must be an object');
  const { variants, cache, itemBias, cosineScale, repeat } = onnx;
  if (!isObject(variants)) throw new Error('hunch.json: onnx.variants must be an object of variant -> file');
  const known = Object.keys(variants).filter((name): name is OnnxVariant => (ONNX_VARIANTS as readonly string[]).includes(name));
  if (known.length === 0) throw new Error(`hunch.json: onnx.variants names none of ${ONNX_VARIANTS.join(', ')}`);
  // Unknown variants (a newer exporter's) are ignored; known ones must be where transformers.js looks.
  for (const name of known) {
    if (variants[name] !== ONNX_VARIANT_FILES[name]) {
      throw new Error(`hunch.json: onnx.variants.${name} must be "${ONNX_VARIANT_FILES[name]}" (the file transformers.js loads), got ${JSON.stringify(variants[name])}`);
    }
  }
  if (!isObject(cache) || !isPositiveInteger(cache.layers) || !isPositiveInteger(cache.heads) || !isPositiveInteger(cache.headDim)) {
    throw new Error('hunch.json: onnx.cache must be { layers, heads, headDim } (positive integers)');
  }
  if (typeof itemBias !== 'boolean') throw new Error('hunch.json: onnx.itemBias must be true or false');
  if (cosineScale !== null && !(typeof cosineScale === 'number' && Number.isFinite(cosineScale) && cosineScale > 0)) {
    throw new Error('hunch.json: onnx.cosineScale must be a positive number or null');
  }
  if (repeat !== null) {
    if (!isObject(repeat) || typeof repeat.output !== 'string' || repeat.output === '') {
      throw new Error('hunch.json: onnx.repeat must be null or { output, addTo }');
    }
    if (repeat.addTo !== 'history-items') {
      throw new Error(`hunch.json: onnx.repeat.addTo ${JSON.stringify(repeat.addTo)} is not supported (expected "history-items")`);
    }
  }
}
