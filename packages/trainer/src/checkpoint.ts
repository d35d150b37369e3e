/**
 * A training checkpoint directory: Hugging Face `config.json` + `model.safetensors`
 * (so it already is a GPT2LMHeadModel), plus `hunch-train.json` with what export needs
 * and HF has no place for (vocabulary, item popularity, training figures), and, for a
 * model fine-tuned from a GPT-2, that GPT-2's `tokenizer.json` extended with the
 * behaviour tokens.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Vocabulary, type SessionPurchaseModel } from '@hunch/core';
import { writeDirAtomic } from './lib/fs-atomic.js';
import { parameterShapes, type GPT2Config } from './model.js';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'hunch-checkpoint';

export interface TrainingMetadata {
  events: number;
  /** Training sequences (for event data: [BOS]-first windows of the context). */
  sequences: number;
  /** Optimiser steps run. */
  steps: number;
  /** Mean training loss of the last steps (up to the kept one). */
  finalLoss: number;
  seed: number;
  skippedLines: number;
  /** Batch size: tokens per step for the sequence trainer. */
  batch: number;
  learningRate: number;
  seconds: number;
  tokensPerSecond: number;
  sessions?: number;
  epochs?: number;
  /** The step whose weights were kept (best on validation). */
  keptStep?: number;
  /** "full" softmax, or the number of sampled negatives per step. */
  softmax?: 'full' | number;
  /**
   * The validation split's size and the kept weights' MRR@20; the PyTorch trainer
   * (packages/trainer/torch/train.py) adds its HR@20, interval, patience, whether it stopped
   * early, and every validation's step and figures.
   */
  validation?: {
    sequences: number;
    mrr20: number;
    hr20?: number;
    every?: number;
    patience?: number;
    stoppedEarly?: boolean;
    history?: Array<{ step: number; mrr20: number; hr20: number; lr: number; seconds: number }>;
  } | null;
  /** The model fine-tuned from (--from-model), or null when trained from scratch. */
  base?: string | null;
}

/** hunch-train.json: what a checkpoint holds beside the HF model files. */
export interface CheckpointMetadata {
  format: typeof CHECKPOINT_FORMAT;
  vocabulary: string[];
  /** The vocabulary's search-text BPE merges (core bpe.ts), in rank order. */
  merges?: Array<[string, string]>;
  /** Item id -> number of events about it: the "popular" fallback list. */
  itemCounts: Record<string, number>;
  /** With attribute-composed items (next-item/heads.ts ATTR_TABLE): the attribute names, by attribute id. */
  attributes?: string[];
  /** The session purchase model fitted with it (`hunch train` on events with purchases; core's SessionPurchaseModel): exported as purchase.json. */
  purchase?: SessionPurchaseModel;
  training: TrainingMetadata;
}

export interface Checkpoint {
  config: GPT2Config;
  weights: TensorMap;
  metadata: CheckpointMetadata;
  /** A GPT-2's tokenizer.json extended with the behaviour tokens (fine-tuned models only). */
  tokenizer?: unknown;
}

/** A checkpoint as read back, with the safetensors file's exact bytes (export copies them). */
export interface LoadedCheckpoint extends Checkpoint {
  safetensors: Uint8Array;
}

/** The Hugging Face GPT2Config for a model whose vocabulary has these BOS and PAD ids. */
export function hfConfig(config: GPT2Config, specials: { bos: number; pad: number } = { bos: 1, pad: 0 }): Record<string, unknown> {
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: config.vocabSize,
    n_positions: config.nPositions,
    n_ctx: config.nPositions,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    layer_norm_epsilon: config.layerNormEpsilon,
    initializer_range: 0.02,
    bos_token_id: specials.bos,
    eos_token_id: specials.bos,
    pad_token_id: specials.pad,
    tie_word_embeddings: true,
    use_cache: false,
  };
}

/** A GPT2Config from a Hugging Face config.json, refusing what model.ts does not compute. */
export function parseHfConfig(raw: unknown, where: string): GPT2Config {
  const c = (raw ?? {}) as Record<string, unknown>;
  const int = (key: string) => {
    const value = c[key];
    if (!Number.isInteger(value) || (value as number) <= 0) throw new Error(`${where}: ${key} must be a positive integer`);
    return value as number;
  };
  if (c.model_type !== 'gpt2') throw new Error(`${where}: model_type must be "gpt2"`);
  if (c.activation_function !== undefined && c.activation_function !== 'gelu_new') {
    throw new Error(`${where}: activation_function ${String(c.activation_function)} is not supported (gelu_new only)`);
  }
  if (c.n_inner !== undefined && c.n_inner !== null) throw new Error(`${where}: n_inner must be null (4 * n_embd)`);
  return {
    vocabSize: int('vocab_size'),
    nPositions: int('n_positions'),
    nEmbd: int('n_embd'),
    nLayer: int('n_layer'),
    nHead: int('n_head'),
    layerNormEpsilon: typeof c.layer_norm_epsilon === 'number' ? c.layer_norm_epsilon : 1e-5,
  };
}

export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary, checkpoint.metadata.merges ?? []);
  await writeDirAtomic(dir, async (temp) => {
    await writeFile(join(temp, 'config.json'), `${JSON.stringify(hfConfig(checkpoint.config, vocabulary), null, 2)}\n`);
    await writeFile(join(temp, 'model.safetensors'), encodeSafetensors(checkpoint.weights));
    await writeFile(join(temp, 'hunch-train.json'), `${JSON.stringify(checkpoint.metadata, null, 2)}\n`);
    if (checkpoint.tokenizer !== undefined) await writeFile(join(temp, 'tokenizer.json'), `${JSON.stringify(checkpoint.tokenizer)}\n`);
  });
}

export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
}

/** Reads and checks a checkpoint: every tensor present with the shape the config implies. */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const config = parseHfConfig(await readJson(join(dir, 'config.json')), join(dir, 'config.json'));
  const metadataPath = join(dir, 'hunch-train.json');
  const metadata = (await readJson(metadataPath)) as CheckpointMetadata;
  if (metadata?.format !== CHECKPOINT_FORMAT || !Array.isArray(metadata.vocabulary)) {
    throw new Error(`${metadataPath}: not a Hunch checkpoint`);
  }
  const vocabulary = new Vocabulary(metadata.vocabulary, metadata.merges ?? []); // checks specials and duplicates
  if (vocabulary.size !== config.vocabSize) {
    throw new Error(`${metadataPath}: vocabulary has ${vocabulary.size} tokens but config.json says vocab_size ${config.vocabSize}`);
  }
  const tokenizerPath = join(dir, 'tokenizer.json');
  const tokenizer = existsSync(tokenizerPath) ? await readJson(tokenizerPath) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dir, 'model.safetensors'));
  } catch (error) {
    throw new Error(`cannot read ${join(dir, 'model.safetensors')}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const { tensors } = decodeSafetensors(bytes);
  checkWeights(config, tensors);
  return { config, weights: tensors, metadata, safetensors: bytes, ...(tokenizer === undefined ? {} : { tokenizer }) };
}

/** Throws naming the first tensor that is missing, mis-shaped or not finite. */
export function checkWeights(config: GPT2Config, weights: TensorMap): void {
  for (const [name, shape] of parameterShapes(config)) {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`checkpoint is missing tensor ${name}`);
    if (tensor.shape.join(',') !== shape.join(',')) {
      throw new Error(`checkpoint tensor ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (!tensor.data.every(Number.isFinite)) throw new Error(`checkpoint tensor ${name} holds non-finite values`);
  }
}
