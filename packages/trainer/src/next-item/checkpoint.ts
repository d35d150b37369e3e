/**
 * A next-item model (train-sequences.ts) as a standard checkpoint directory (checkpoint.ts:
 * HF config.json + model.safetensors + hunch-train.json), and back. The safetensors file
 * carries every trained tensor, heads included (`lm_head.bias`, `hunch.repeat.*`, ...);
 * hunch-train.json adds `nextItem.heads`, the HeadOptions they were trained with, so a
 * reader rebuilds the exact parameter layout whatever heads a later version adds.
 */
import { COSINE_SCALE, ITEM_BIAS, isItemToken, REPEAT_WEIGHT, Vocabulary } from '@hunch/core';
import { readCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointMetadata, type TrainingMetadata } from '../checkpoint.js';
import type { GPT2Config } from '../model.js';
import type { TensorMap } from '../safetensors.js';
import { nextItemShapes, type HeadOptions } from './heads.js';

export interface NextItemMetadata extends CheckpointMetadata {
  nextItem: { heads: HeadOptions };
}

export interface NextItemModel {
  config: GPT2Config;
  heads: HeadOptions;
  weights: TensorMap;
  /** Token strings by id: the specials, then `item:<raw id>` (benchmark.ts researchVocabulary). */
  vocabulary: readonly string[];
  /** 1 for item tokens: the rankable candidates. */
  isItem: Uint8Array;
}

export interface NextItemSaveInfo {
  /** Training item counts by raw item id (the "popular" fallback list of an export). */
  itemCounts: Record<string, number>;
  training: TrainingMetadata;
}

export async function writeNextItemCheckpoint(dir: string, model: Omit<NextItemModel, 'isItem'>, info: NextItemSaveInfo): Promise<void> {
  const metadata: NextItemMetadata = {
    format: 'hunch-checkpoint',
    vocabulary: [...model.vocabulary],
    itemCounts: info.itemCounts,
    training: info.training,
    nextItem: { heads: model.heads },
  };
  const checkpoint: Checkpoint = { config: model.config, weights: model.weights, metadata };
  await writeCheckpoint(dir, checkpoint);
}

/** Heads implied by the tensors present: for checkpoints that do not record them. */
function headsFromTensors(weights: TensorMap): HeadOptions {
  const cosineScale = weights.get(COSINE_SCALE)?.data[0];
  return { itemBias: weights.has(ITEM_BIAS), repeat: weights.has(REPEAT_WEIGHT), ...(cosineScale ? { cosineScale } : {}) };
}

/**
 * Reads a next-item checkpoint and checks that its tensors are exactly the layout its
 * config and heads imply (checkpoint.ts checks the GPT-2 ones; this adds the heads, and
 * refuses tensors this version would silently ignore when scoring).
 */
export async function readNextItemCheckpoint(dir: string): Promise<NextItemModel> {
  const { config, weights, metadata } = await readCheckpoint(dir);
  const recorded = (metadata as Partial<NextItemMetadata>).nextItem?.heads;
  const heads = recorded ?? headsFromTensors(weights);
  const expected = nextItemShapes(config, heads);
  for (const [name, shape] of expected) {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`${dir}: checkpoint is missing tensor ${name}`);
    if (tensor.shape.join(',') !== shape.join(',')) {
      throw new Error(`${dir}: checkpoint tensor ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (!tensor.data.every(Number.isFinite)) throw new Error(`${dir}: checkpoint tensor ${name} holds non-finite values`);
  }
  const known = new Set(expected.map(([name]) => name));
  const unknown = [...weights.keys()].filter((name) => !known.has(name));
  if (unknown.length) throw new Error(`${dir}: checkpoint has tensors this version cannot score with: ${unknown.join(', ')}`);
  const vocabulary = new Vocabulary(metadata.vocabulary).tokens;
  const isItem = Uint8Array.from(vocabulary, (token) => (isItemToken(token) ? 1 : 0));
  return { config, heads, weights, vocabulary, isItem };
}
