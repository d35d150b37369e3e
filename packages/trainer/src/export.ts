/**
 * Export: a training checkpoint -> the model directory the browser SDK loads, in the
 * Hugging Face GPT-2 layout (config, tokenizer, safetensors, onnx/model.onnx) plus
 * hunch.json. Everything is built in memory and checked first, then written to a
 * temporary sibling and renamed into place, so a failure leaves the old model intact.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ENCODING_VERSION, MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, Vocabulary, type HunchManifest } from '@hunch/core';
import { readCatalog } from './catalog.js';
import { hfConfig, readCheckpoint, type Checkpoint } from './checkpoint.js';
import { writeDirAtomic } from './lib/fs-atomic.js';
import { tokenizerConfig, tokenizerJson } from './hf-tokenizer.js';
import { parameterShapes } from './model.js';
import { buildOnnxModel } from './onnx-export.js';

export interface ExportOptions {
  /** Checkpoint directory written by `hunch train`. */
  checkpoint: string;
  /** Catalog JSON with `products`. */
  catalog: string;
  out: string;
  /** ISO time for hunch.json's createdAt (default: now). */
  createdAt?: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** The model directory's files, path -> bytes (hunch.json excluded). */
function modelFiles(checkpoint: Checkpoint, vocabulary: Vocabulary, safetensors: Uint8Array): Map<string, Uint8Array> {
  const { config } = checkpoint;
  const { bos, pad } = vocabulary;
  return new Map([
    ['config.json', json(hfConfig(config, vocabulary))],
    ['generation_config.json', json({ bos_token_id: bos, eos_token_id: bos, pad_token_id: pad, use_cache: false })],
    // A fine-tuned GPT-2's checkpoint carries its extended tokenizer; ours is made from the vocabulary.
    ['tokenizer.json', json(checkpoint.tokenizer ?? tokenizerJson(vocabulary))],
    ['tokenizer_config.json', json(tokenizerConfig(config.nPositions, vocabulary))],
    ['model.safetensors', safetensors],
    ['onnx/model.onnx', buildOnnxModel(config, checkpoint.weights)],
  ]);
}

/** The item bias the ONNX graph adds to the logits; any other extra tensor would be dropped silently. */
const ITEM_BIAS = 'lm_head.bias';

/** Throws unless the ONNX graph computes exactly the checkpoint's scores: GPT-2 tensors plus, at most, the item bias. */
function checkExportable(checkpoint: Checkpoint, where: string): void {
  const known = new Set(parameterShapes(checkpoint.config).map(([name]) => name));
  const extra = [...checkpoint.weights.keys()].filter((name) => !known.has(name) && name !== ITEM_BIAS);
  if (extra.length > 0) throw new Error(`${where}: the exported model cannot compute ${extra.join(', ')} (train without those heads)`);
  const bias = checkpoint.weights.get(ITEM_BIAS);
  if (bias && (bias.shape.join(',') !== String(checkpoint.config.vocabSize) || !bias.data.every(Number.isFinite))) {
    throw new Error(`${where}: ${ITEM_BIAS} must be ${checkpoint.config.vocabSize} finite values`);
  }
}

export async function exportModel(options: ExportOptions): Promise<HunchManifest> {
  // Read and check everything before touching the output directory.
  const checkpoint = await readCheckpoint(options.checkpoint);
  checkExportable(checkpoint, options.checkpoint);
  const products = await readCatalog(options.catalog);
  const vocabulary = new Vocabulary(checkpoint.state.vocabulary, checkpoint.state.merges ?? []);
  const known = new Set(vocabulary.items().map(({ itemId }) => itemId));
  const catalog = products.filter((product) => known.has(product.id));
  const inCatalog = new Set(catalog.map((product) => product.id));
  const counts = checkpoint.state.itemCounts ?? {};
  // Only items the SDK can both score and display; most events first, ties by id.
  const popular = [...inCatalog].sort((a, b) => (counts[b] ?? 0) - (counts[a] ?? 0) || (a < b ? -1 : a > b ? 1 : 0));

  const files = modelFiles(checkpoint, vocabulary, checkpoint.safetensors);
  const entries = [...files].sort(([a], [b]) => (a < b ? -1 : 1));
  const { training } = checkpoint.state;
  const manifest: HunchManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: MANIFEST_FORMAT_VERSION,
    version: sha256(checkpoint.safetensors).slice(0, 12),
    createdAt: options.createdAt ?? new Date().toISOString(),
    encoding: { version: ENCODING_VERSION, maxLength: checkpoint.config.nPositions },
    vocabulary: [...vocabulary.tokens],
    merges: vocabulary.merges.map(([a, b]): [string, string] => [a, b]),
    files: Object.fromEntries(entries.map(([path, bytes]) => [path, { sha256: sha256(bytes), bytes: bytes.length }])),
    catalog,
    popular,
    training: {
      events: training.events,
      sequences: training.sequences,
      steps: training.steps,
      finalLoss: training.finalLoss,
      seed: training.seed,
    },
  };

  await writeDirAtomic(options.out, async (dir) => {
    for (const [path, bytes] of entries) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), bytes);
    }
    await writeFile(join(dir, MANIFEST_FILE), json(manifest));
  });
  return manifest;
}
