/**
 * Export: a training checkpoint -> the model directory the browser SDK loads, in the
 * Hugging Face GPT-2 layout (config, tokenizer, safetensors, and the ONNX graphs with a
 * KV cache: onnx/model.onnx fp32, onnx/model_quantized.onnx int8, onnx/model_q4.onnx
 * 4-bit, and with --quant pq onnx/model_pq.onnx, the product-quantized item table; each takes
 * num_logits_to_keep, so a recommendation computes the LM head for the last position only)
 * plus catalog.json (the products it can show; a big shop's as shards, catalog-files.ts), the strategy policy when one
 * is given (policy.json, from `hunch policy`), the session purchase model when training fitted one
 * (purchase.json, core's intent/session-purchase.ts), the attribute table when its items are composed
 * from catalog attributes (attributes.safetensors, export-attributes.ts: catalog.json then also
 * lists the catalog's new products that have attributes) and hunch.json, which lists each file with its hash
 * (a shard family by its listing: core's shard-listing.ts).
 * Everything is built in memory and checked first, then written to a temporary sibling and
 * renamed into place, so a failure leaves the old model intact.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ATTRIBUTE_FILE, compactListing, COSINE_SCALE, ENCODING_VERSION, ITEM_BIAS, MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, ONNX_VARIANT_FILES, ONNX_VARIANTS, REPEAT_BIAS, REPEAT_WEIGHT, splitVocabulary, validatePolicy, validateSessionPurchaseModel, Vocabulary, type HunchManifest, type ItemVocabularyLayout, type OnnxManifest, type OnnxVariant } from '@hunch/core';
import { readCatalog } from './catalog.js';
import { catalogFiles, type CatalogLayout } from './catalog-files.js';
import { attributeFile, attributeHeadsOf, checkAttributeNames, composedWeights, newProductsWithAttributes } from './export-attributes.js';
import { hfConfig, readCheckpoint, readJson, type Checkpoint, type LoadedCheckpoint } from './checkpoint.js';
import { writeDirAtomic } from './lib/fs-atomic.js';
import { encodeSafetensors } from './safetensors.js';
import { tokenizerConfig, tokenizerJson } from './hf-tokenizer.js';
import { ATTR_TABLE, nextItemShapes, type HeadOptions } from './next-item/heads.js';
import { buildOnnxModel, exportedTable, REPEAT_OUTPUT } from './onnx/gpt2.js';
import { quantizePq, type PqOptions } from './onnx/pq.js';

export interface ExportOptions {
  /** Checkpoint directory written by `hunch train`. */
  checkpoint: string;
  /** Catalog JSON with `products`. */
  catalog: string;
  out: string;
  /** ISO time for hunch.json's createdAt (default: now). */
  createdAt?: string;
  /** ONNX variants to write (default DEFAULT_QUANT: fp32, int8, q4; pq only when asked for). */
  quant?: readonly OnnxVariant[];
  /** A strategy policy (`hunch policy --out`): validated, copied to POLICY_FILE and named by hunch.json's `policy`. */
  policy?: string;
  /** pq: sub-spaces, bytes per item (default onnx/pq.ts pqSubspaces: the most of 8 to 32 whose codes fit PQ_CODE_BUDGET). */
  pqSubspaces?: number;
  /** pq: OPQ rounds learning the rotation (default onnx/pq.ts PQ_ROTATION_ROUNDS; 0: plain PQ, no rotation). */
  pqRotationRounds?: number;
  /** When the catalog is sharded, and how finely (catalog-files.ts; default: shards past 2 MiB of catalog.json). */
  catalogLayout?: CatalogLayout;
  /** When the item tokens leave hunch.json for shards, and how finely (core's item-vocabulary.ts; default: past 2 MiB of them). */
  vocabularyLayout?: ItemVocabularyLayout;
}

/** Where the policy goes in the model directory (hunch.json's `policy`, listed in its `files`). */
export const POLICY_FILE = 'policy.json';

/** Where the session purchase model goes (hunch.json's `purchase`, listed in its `files`), when the checkpoint carries one. */
export const PURCHASE_FILE = 'purchase.json';

/** The policy file's bytes, as they are, once core's validatePolicy accepts them; throws naming the file and why. */
async function readPolicy(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`policy ${path} cannot be read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new Error(`policy ${path} is not JSON: ${(error as Error).message}`);
  }
  const checked = validatePolicy(parsed);
  if (!checked.ok) throw new Error(`policy ${path} does not validate: ${checked.error}`);
  return bytes;
}

/** hunch.json as export writes it: always with core's `onnx` field (OnnxManifest). */
export type ExportManifest = HunchManifest & { onnx: OnnxManifest };

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
/**
 * hunch.json: one line per field, each value compact, not indented. A big shop's manifest is
 * megabytes (the vocabulary) that every cold start reads and parses in the shopper's browser
 * before the model loads.
 */
const manifestJson = (manifest: object) =>
  new TextEncoder().encode(`{\n${Object.entries(manifest).filter(([, value]) => value !== undefined).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n')}\n}\n`);

/** The model directory's files, path -> bytes (hunch.json excluded). */
function modelFiles(checkpoint: LoadedCheckpoint, vocabulary: Vocabulary, catalog: ReadonlyMap<string, Uint8Array>, quant: readonly OnnxVariant[], pq: PqOptions): Map<string, Uint8Array> {
  const { config } = checkpoint;
  // Attribute-composed items: a plain GPT-2 over the composed table (export-attributes.ts).
  const weights = checkpoint.weights.has(ATTR_TABLE) ? composedWeights(checkpoint.weights) : checkpoint.weights;
  const safetensors = weights === checkpoint.weights ? checkpoint.safetensors : encodeSafetensors(weights);
  const pqTable = quant.includes('pq') ? quantizePq(exportedTable(config, weights), config.vocabSize, config.nEmbd, pq) : undefined;
  const { bos, pad } = vocabulary;
  return new Map([
    ...catalog,
    // The graphs take and return the KV cache.
    ['config.json', json({ ...hfConfig(config, vocabulary), use_cache: true })],
    ['generation_config.json', json({ bos_token_id: bos, eos_token_id: bos, pad_token_id: pad, use_cache: true })],
    // A fine-tuned GPT-2's checkpoint carries its extended tokenizer; ours is made from the vocabulary.
    ['tokenizer.json', json(checkpoint.tokenizer ?? tokenizerJson(vocabulary))],
    ['tokenizer_config.json', json(tokenizerConfig(config.nPositions, vocabulary))],
    ['model.safetensors', safetensors],
    ...quant.map((variant): [string, Uint8Array] => [ONNX_VARIANT_FILES[variant], buildOnnxModel(config, weights, variant, pqTable)]),
  ]);
}

/** config.json fields a checkpoint may carry: what hfConfig writes, and HF metadata that changes nothing. */
const KNOWN_CONFIG_FIELDS = new Set([
  ...Object.keys(hfConfig({ vocabSize: 1, nPositions: 1, nEmbd: 1, nLayer: 1, nHead: 1, layerNormEpsilon: 1e-5 })),
  '_name_or_path',
  'transformers_version',
  'torch_dtype',
  'dtype',
  'task_specific_params',
  'summary_type',
  'summary_use_proj',
  'summary_activation',
  'summary_proj_to_labels',
  'summary_first_dropout',
]);
/** Fields GPT-2 configs may carry that change the computation unless they have these values. */
const FIXED_CONFIG_FIELDS: Record<string, unknown> = {
  tie_word_embeddings: true,
  scale_attn_weights: true,
  scale_attn_by_inverse_layer_idx: false,
  reorder_and_upcast_attn: false,
  add_cross_attention: false,
};

/** Throws naming the first config.json field the exported graph would not honour. */
async function checkConfigFields(dir: string): Promise<void> {
  const path = join(dir, 'config.json');
  const raw = (await readJson(path)) as Record<string, unknown>;
  for (const [field, value] of Object.entries(raw)) {
    if (field in FIXED_CONFIG_FIELDS) {
      if (value !== FIXED_CONFIG_FIELDS[field]) throw new Error(`${path}: ${field} must be ${JSON.stringify(FIXED_CONFIG_FIELDS[field])}, got ${JSON.stringify(value)}`);
    } else if (!KNOWN_CONFIG_FIELDS.has(field)) {
      throw new Error(`${path}: unknown config field ${field} (the exported graph would ignore it)`);
    }
  }
  if (raw.n_ctx !== undefined && raw.n_ctx !== raw.n_positions) throw new Error(`${path}: n_ctx ${String(raw.n_ctx)} differs from n_positions ${String(raw.n_positions)}`);
}

/** The heads the tensors imply (next-item/heads.ts): the item bias, the repeat bonus, cosine scoring, attribute-composed items. */
function headsOf(checkpoint: Checkpoint): HeadOptions {
  const { weights } = checkpoint;
  const scale = weights.get(COSINE_SCALE);
  const attributes = attributeHeadsOf(weights, checkpoint.config.vocabSize);
  return {
    itemBias: weights.has(ITEM_BIAS),
    repeat: weights.has(REPEAT_WEIGHT) || weights.has(REPEAT_BIAS),
    ...(scale ? { cosineScale: scale.data[0]! } : {}),
    ...(attributes ? { attributes } : {}),
  };
}

/**
 * Throws unless the ONNX graphs compute exactly the checkpoint's scores: the GPT-2 tensors
 * (checked on reading) plus, at most, the next-item heads, each with its shape, finite,
 * agreeing with the heads its metadata (hunch-train.json) records; any other tensor is named.
 */
function checkExportable(checkpoint: Checkpoint, where: string): HeadOptions {
  const heads = headsOf(checkpoint);
  const expected = nextItemShapes(checkpoint.config, heads);
  for (const [name, shape] of expected) {
    const tensor = checkpoint.weights.get(name);
    if (!tensor) throw new Error(`${where}: checkpoint is missing tensor ${name}`);
    if (tensor.shape.join(',') !== shape.join(',')) throw new Error(`${where}: checkpoint tensor ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
    if (!tensor.data.every(Number.isFinite)) throw new Error(`${where}: checkpoint tensor ${name} holds non-finite values`);
  }
  if (heads.cosineScale !== undefined && !(heads.cosineScale > 0)) throw new Error(`${where}: ${COSINE_SCALE} must be positive, got ${heads.cosineScale}`);
  const known = new Set(expected.map(([name]) => name));
  const extra = [...checkpoint.weights.keys()].filter((name) => !known.has(name));
  if (extra.length > 0) throw new Error(`${where}: the exported model cannot compute ${extra.join(', ')}`);
  const recorded = (checkpoint.metadata as { nextItem?: { heads?: Partial<HeadOptions> } }).nextItem?.heads;
  if (recorded) {
    const agree = { itemBias: Boolean(recorded.itemBias) === heads.itemBias, repeat: Boolean(recorded.repeat) === heads.repeat, cosineScale: (recorded.cosineScale ?? 0) === (heads.cosineScale ?? 0) };
    const field = Object.entries(agree).find(([, ok]) => !ok)?.[0];
    if (field) throw new Error(`${where}: hunch-train.json nextItem.heads.${field} disagrees with the checkpoint's tensors`);
  }
  return heads;
}

/** What an export writes unless --quant says: pq trains codebooks (seconds to minutes), so only when asked for. */
export const DEFAULT_QUANT: readonly OnnxVariant[] = ONNX_VARIANTS.filter((variant) => variant !== 'pq');

/** The --quant list: known variants, no repeats, at least one. */
export function parseQuant(list: string): OnnxVariant[] {
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.find((name) => !(ONNX_VARIANTS as readonly string[]).includes(name));
  if (unknown !== undefined) throw new Error(`unknown quantization ${JSON.stringify(unknown)} (use ${ONNX_VARIANTS.join(', ')})`);
  if (names.length === 0) throw new Error(`no quantization given (use ${ONNX_VARIANTS.join(', ')})`);
  return ONNX_VARIANTS.filter((variant) => names.includes(variant));
}

export async function exportModel(options: ExportOptions): Promise<ExportManifest> {
  // Read and check everything before touching the output directory.
  const quant = options.quant ? parseQuant(options.quant.join(',')) : DEFAULT_QUANT;
  await checkConfigFields(options.checkpoint);
  const checkpoint = await readCheckpoint(options.checkpoint);
  const heads = checkExportable(checkpoint, options.checkpoint);
  const products = await readCatalog(options.catalog);
  const policy = options.policy === undefined ? undefined : await readPolicy(options.policy);
  const purchase = checkpoint.metadata.purchase === undefined ? undefined : validateSessionPurchaseModel(checkpoint.metadata.purchase);
  if (purchase && !purchase.ok) throw new Error(`${options.checkpoint}: hunch-train.json purchase: ${purchase.error}`);
  const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary, checkpoint.metadata.merges ?? []);
  const known = new Set(vocabulary.items().map(({ itemId }) => itemId));
  const attributeNames = heads.attributes ? checkAttributeNames(checkpoint, heads.attributes.count, options.checkpoint) : undefined;
  // The new products (none in the vocabulary) stay in the catalog when their attributes can score them.
  const newProducts = new Set(attributeNames ? newProductsWithAttributes(products, known, attributeNames) : []);
  const shown = products.filter((product) => known.has(product.id) || newProducts.has(product));
  const inCatalog = new Set(shown.flatMap((product) => (known.has(product.id) ? [product.id] : [])));
  const counts = checkpoint.metadata.itemCounts ?? {};
  // Only items the SDK can both score and display; most events first, ties by id.
  const popular = [...inCatalog].sort((a, b) => (counts[b] ?? 0) - (counts[a] ?? 0) || (a < b ? -1 : a > b ? 1 : 0));

  const catalog = catalogFiles(popular, shown, options.catalogLayout, [...newProducts].map((product) => product.id));
  const files = modelFiles(checkpoint, vocabulary, catalog, quant, { subspaces: options.pqSubspaces, rotationRounds: options.pqRotationRounds });
  if (policy) files.set(POLICY_FILE, policy);
  if (purchase) files.set(PURCHASE_FILE, json(purchase.model));
  if (attributeNames) files.set(ATTRIBUTE_FILE, attributeFile(checkpoint.weights, attributeNames));
  // A big shop's item tokens as shards, hunch.json keeping the rest (core's item-vocabulary.ts).
  const split = splitVocabulary(vocabulary.tokens, options.vocabularyLayout);
  for (const [path, text] of split.shards) files.set(path, new TextEncoder().encode(text));
  // hunch.json lists each shard family by its listing of hashes (core's shard-listing.ts), written beside the shards.
  const listed = compactListing(files, sha256);
  for (const [path, bytes] of listed) files.set(path, bytes);
  const entries = [...files].sort(([a], [b]) => (a < b ? -1 : 1));
  const { training } = checkpoint.metadata;
  const { nLayer, nHead, nEmbd } = checkpoint.config;
  const manifest: ExportManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_FORMAT_VERSION,
    version: sha256(checkpoint.safetensors).slice(0, 12),
    createdAt: options.createdAt ?? new Date().toISOString(),
    encoding: { version: ENCODING_VERSION, maxLength: checkpoint.config.nPositions },
    vocabulary: split.inline,
    ...(split.items ? { itemVocabulary: split.items } : {}),
    merges: vocabulary.merges.map(([a, b]): [string, string] => [a, b]),
    files: Object.fromEntries([...listed].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, bytes]) => [path, { sha256: sha256(bytes), bytes: bytes.length }])),
    training: {
      events: training.events,
      sequences: training.sequences,
      steps: training.steps,
      finalLoss: training.finalLoss,
      seed: training.seed,
    },
    onnx: {
      variants: Object.fromEntries(quant.map((variant) => [variant, ONNX_VARIANT_FILES[variant]])),
      cache: { layers: nLayer, heads: nHead, headDim: nEmbd / nHead },
      itemBias: heads.itemBias,
      cosineScale: heads.cosineScale ?? null,
      repeat: heads.repeat ? { output: REPEAT_OUTPUT, addTo: 'history-items' } : null,
    },
    ...(policy ? { policy: POLICY_FILE } : {}),
    ...(purchase ? { purchase: PURCHASE_FILE } : {}),
    ...(attributeNames ? { attributes: ATTRIBUTE_FILE } : {}),
  };

  await writeDirAtomic(options.out, async (dir) => {
    for (const [path, bytes] of entries) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), bytes);
    }
    await writeFile(join(dir, MANIFEST_FILE), manifestJson(manifest));
  });
  return manifest;
}
