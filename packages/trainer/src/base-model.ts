/**
 * Fine-tuning's starting point: a Hugging Face GPT-2 directory (config.json,
 * model.safetensors, tokenizer.json, as in the `gpt2` / `distilgpt2` repos), one of
 * our own checkpoints or a model directory `hunch export` wrote, and the initial weights of the model with an extended vocabulary.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { itemTokenShardFile, joinVocabulary, MANIFEST_FILE, parseItemTokenShard, parseManifest, type HunchManifest, type Merge, type Vocabulary } from '@hunch/core';
import { checkWeights, parseHfConfig, readCheckpoint, readJson } from './checkpoint.js';
import { readBpeTokenizer } from './hf-tokenizer.js';
import { Rng } from './lib/prng.js';
import type { GPT2Config } from './model.js';
import { decodeSafetensors, type TensorMap } from './safetensors.js';

export interface BaseModel {
  /** The directory it was read from. */
  source: string;
  config: GPT2Config;
  /** HF GPT-2 tensors under our names (`transformer.` prefix), checked against config. */
  weights: TensorMap;
  /** Its vocabulary: token strings by id and search-text merges. */
  vocabulary: { tokens: string[]; merges: Merge[] };
  /** A GPT-2's tokenizer.json, to be extended (absent for our own checkpoints). */
  tokenizer?: unknown;
}

/** HF GPT-2 top-level modules: `transformer.` is absent from their names in the `gpt2` repo. */
const TRANSFORMER_PARTS = /^(wte|wpe|h\.\d+|ln_f)\./;
/** Non-parameter buffers some GPT-2 files hold (the causal mask). */
const BUFFERS = /\.attn\.(bias|masked_bias)$/;

/** Renames a GPT-2 file's tensors to ours, dropping buffers and the tied LM head. */
function ourNames(tensors: TensorMap, where: string): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, tensor] of tensors) {
    const ours = TRANSFORMER_PARTS.test(name) ? `transformer.${name}` : name;
    if (BUFFERS.test(ours)) continue;
    out.set(ours, tensor);
  }
  const head = out.get('lm_head.weight');
  if (head) {
    // GPT-2 ties the LM head to wte; a file may store it anyway. An untied head cannot be kept.
    const wte = out.get('transformer.wte.weight');
    if (!wte || head.data.length !== wte.data.length || head.data.some((x, i) => x !== wte.data[i])) {
      throw new Error(`${where}: lm_head.weight differs from the token embedding; only tied GPT-2 models are supported`);
    }
    out.delete('lm_head.weight');
  }
  return out;
}

async function readHfGpt2(dir: string): Promise<BaseModel> {
  const config = parseHfConfig(await readJson(join(dir, 'config.json')), join(dir, 'config.json'));
  const tokenizerPath = join(dir, 'tokenizer.json');
  const tokenizer = await readJson(tokenizerPath);
  const vocabulary = readBpeTokenizer(tokenizer, tokenizerPath);
  if (vocabulary.tokens.length !== config.vocabSize) {
    throw new Error(`${tokenizerPath}: ${vocabulary.tokens.length} tokens but config.json says vocab_size ${config.vocabSize}`);
  }
  const weightsPath = join(dir, 'model.safetensors');
  const weights = ourNames(decodeSafetensors(await readWeightsFile(weightsPath)).tensors, weightsPath);
  checkWeights(config, weights);
  return { source: dir, config, weights, vocabulary, tokenizer };
}

/**
 * A model directory `hunch export` wrote (the one a shop serves): its vocabulary is hunch.json's,
 * search pieces `q:`-named as the trainer names them (its tokenizer.json names them as HF's BPE
 * does, so it is not read: export writes a fresh one from the extended vocabulary).
 */
async function readHunchModel(dir: string): Promise<BaseModel> {
  const config = parseHfConfig(await readJson(join(dir, 'config.json')), join(dir, 'config.json'));
  const manifest = parseManifest(await readJson(join(dir, MANIFEST_FILE)));
  const tokens = await readExportedVocabulary(dir, manifest);
  if (tokens.length !== config.vocabSize) {
    throw new Error(`${join(dir, MANIFEST_FILE)}: ${tokens.length} tokens but config.json says vocab_size ${config.vocabSize}`);
  }
  const weightsPath = join(dir, 'model.safetensors');
  const weights = ourNames(decodeSafetensors(await readWeightsFile(weightsPath)).tensors, weightsPath);
  checkWeights(config, weights);
  return { source: dir, config, weights, vocabulary: { tokens, merges: manifest.merges } };
}

/** An exported model's whole vocabulary: hunch.json's, and its item token shards when it has them (core's item-vocabulary.ts). */
async function readExportedVocabulary(dir: string, manifest: HunchManifest): Promise<string[]> {
  const items = manifest.itemVocabulary;
  if (!items) return manifest.vocabulary;
  const shards: string[][] = [];
  for (let from = 0, shard = 0; from < items.count; from += items.tokensPerShard, shard++) {
    const path = itemTokenShardFile(shard);
    shards.push(parseItemTokenShard(await readFile(join(dir, path), 'utf8'), join(dir, path), Math.min(items.tokensPerShard, items.count - from)));
  }
  return joinVocabulary(manifest.vocabulary, shards);
}

async function readWeightsFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** Reads a base model: one of our checkpoints (it has hunch-train.json), an exported model (hunch.json) or a HF GPT-2. */
export async function readBaseModel(dir: string): Promise<BaseModel> {
  if (existsSync(join(dir, MANIFEST_FILE))) return readHunchModel(dir);
  if (existsSync(join(dir, 'hunch-train.json'))) {
    const checkpoint = await readCheckpoint(dir);
    const vocabulary = { tokens: checkpoint.metadata.vocabulary, merges: (checkpoint.metadata.merges ?? []).map(([a, b]): Merge => [a, b]) };
    return { source: dir, config: checkpoint.config, weights: checkpoint.weights, vocabulary, ...(checkpoint.tokenizer === undefined ? {} : { tokenizer: checkpoint.tokenizer }) };
  }
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no config.json (not a GPT-2 model directory or Hunch checkpoint)`);
  return readHfGpt2(dir);
}

/** Standard deviation of the noise that tells new embedding rows apart (GPT-2's initializer_range). */
const NEW_ROW_NOISE = 0.02;

/**
 * The config and initial weights of the base model with `vocabulary` (the base's tokens
 * first, same ids) and a context of `context` positions (at most the base's): base rows
 * of wte copied exactly; each new row the mean of the base rows plus N(0, 0.02²) noise
 * from `seed`; the first `context` rows of wpe; every other tensor as it is.
 */
export function initFromBase(base: BaseModel, vocabulary: Vocabulary, context: number, seed: number): { config: GPT2Config; init: TensorMap } {
  const baseV = base.config.vocabSize;
  if (vocabulary.tokens.slice(0, baseV).some((token, id) => token !== base.vocabulary.tokens[id])) {
    throw new Error('the vocabulary does not start with the base model\'s tokens');
  }
  if (context > base.config.nPositions) {
    throw new Error(`context ${context} exceeds the base model's ${base.config.nPositions} positions`);
  }
  const config: GPT2Config = { ...base.config, vocabSize: vocabulary.size, nPositions: context };
  const D = config.nEmbd;
  const wte = base.weights.get('transformer.wte.weight')!.data;
  const wpe = base.weights.get('transformer.wpe.weight')!.data;
  const mean = new Float64Array(D);
  for (let i = 0; i < baseV * D; i++) mean[i % D]! += wte[i]! / baseV;
  const extended = new Float32Array(vocabulary.size * D);
  extended.set(wte);
  const rng = new Rng(seed ^ 0x3e7b);
  for (let i = baseV * D; i < extended.length; i++) extended[i] = mean[i % D]! + rng.normal() * NEW_ROW_NOISE;
  const init: TensorMap = new Map(base.weights);
  init.set('transformer.wte.weight', { shape: [vocabulary.size, D], data: extended });
  init.set('transformer.wpe.weight', { shape: [context, D], data: wpe.slice(0, context * D) });
  return { config, init };
}
