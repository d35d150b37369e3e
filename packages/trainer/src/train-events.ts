/**
 * `hunch train`: Hunch events (NDJSON, or the collector's database) -> a checkpoint, on the
 * scalable sequence trainer (train-sequences.ts). The events stream in two passes
 * (event-corpus.ts); the latest sessions validate for early stopping; full softmax over a
 * small vocabulary, sampled negatives over a large one. From scratch, or fine-tuned from a
 * GPT-2 (or one of our checkpoints) whose vocabulary is extended with the behaviour tokens.
 *
 * The checkpoint is plain HF GPT-2 (no item bias, no repeat bonus): what the ONNX
 * exporter writes and the browser runs, with nothing left out; with a catalog whose items share
 * attributes, plus the attribute table its item vectors are composed with (export composes them).
 */
import { isItemToken, type CatalogItem } from '@hunch/core';
import { initFromBase, type BaseModel } from './base-model.js';
import { catalogAttributes } from './catalog-attributes.js';
import type { Checkpoint } from './checkpoint.js';
import { readEventCorpus } from './event-corpus.js';
import { distilTargets, type DistilChoice } from './distillation.js';
import { ndjsonSource, type EventSource } from './event-source.js';
import { extendTokenizerJson } from './hf-tokenizer.js';
import { negativesFor } from './next-item/negatives.js';
import { fitSessionPurchase, type SessionPurchaseFit } from './session-purchase.js';
import { trainSequences, type SequenceTrainResult } from './train-sequences.js';
import type { TrainOptions } from './train/options.js';
import { stateDirectory } from './train/run-state.js';

/** With `base`, the architecture is the base's (layers, embd and heads are ignored) and `context` at most its n_positions. */
export interface EventTrainOptions extends TrainOptions {
  /** Share of sessions, the latest, held out for early stopping (0 = none). */
  validationShare: number;
  /** Validations without a better MRR@20 before stopping. */
  patience: number;
  /** Full softmax while the candidate tokens are at most this many; sampled negatives above. */
  fullSoftmaxMax: number;
  /** Sampled negatives per step when the vocabulary is large. */
  negatives: number;
  /** Save training state every `every` steps; an existing state is continued only with `resume`. */
  state?: { dir: string; every: number; resume: boolean };
  /** Fine-tune from this model, extending its vocabulary. */
  base?: BaseModel;
  /**
   * Minutes the whole call may take from `startedAt` (reading the events, the purchase model,
   * training): training gets what is left, less a reserve, and sets its steps from measured
   * throughput (trainSequences' timeBudget). Absent: the epochs decide. `hunch train` gives
   * DEFAULT_TRAIN_MINUTES.
   */
  timeBudget?: number;
  /** When the run started, on performance.now()'s clock (the CLI: 0, the process start). Default: the call. */
  startedAt?: number;
  /**
   * The shop's catalog: with attributes its items share (category, brand, attributes, price,
   * title words: core's item-attributes.ts), each item's vector is composed from its learned
   * embedding and its attributes' (next-item/heads.ts), so the export can score new products.
   */
  catalog?: readonly CatalogItem[];
  /** Distilling STAN (distillation.ts): the weight (0: off) and soft items a position; absent: the default rule (on where the time budget allows). */
  distil?: DistilChoice;
}

/**
 * `hunch train`'s default time budget in minutes: the bound a scheduled retraining can rely
 * on for any data up to Diginetica's size on a 2-core machine (the export is a separate,
 * short command); data that small trains all its epochs well within it.
 */
export const DEFAULT_TRAIN_MINUTES = 30;

/**
 * The fewest sessions of 2 or more events `hunch train` learns from. Each such session holds a
 * next event to predict (a session of one event teaches nothing but "it starts"), and with the
 * default 5% of sessions held out, 20 leave at least 1 to validate on (early stopping, the
 * checkpoint's MRR) and 19 to train on. Less than that is refused rather than trained into a
 * model that looks finished ("final loss 0.0000") and has learnt nothing.
 */
export const MIN_TRAIN_SESSIONS = 20;

export const DEFAULT_EVENT_TRAIN_OPTIONS: EventTrainOptions = {
  layers: 2,
  embd: 32,
  heads: 2,
  context: 32,
  epochs: 10,
  batchTokens: 1024,
  lr: 3e-3,
  dropout: 0.1,
  weightDecay: 0.01,
  seed: 1,
  workers: 2,
  validationShare: 0.05,
  patience: 4,
  fullSoftmaxMax: 5000,
  negatives: 2048,
};

export interface EventTrainResult {
  checkpoint: Checkpoint;
  trained: SequenceTrainResult;
  skipped: number;
  skippedLines: Array<{ line: number; error: string }>;
  /** The session purchase model fitted beside the GPT-2 (in the checkpoint's metadata as `purchase`), or why none was. */
  purchase: SessionPurchaseFit;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `events`: an NDJSON file's path, or a source such as the collector's database (event-source.ts). */
export async function trainEvents(events: string | EventSource, options: EventTrainOptions): Promise<EventTrainResult> {
  const log = options.log ?? (() => {});
  const startedAt = options.startedAt ?? performance.now();
  if (options.timeBudget !== undefined && !(options.timeBudget > 0 && Number.isFinite(options.timeBudget))) {
    throw new Error(`the time budget must be a positive number of minutes, got ${options.timeBudget}`);
  }
  const state = options.state && stateDirectory(options.state, log);
  const { base } = options;
  // The sequence trainer computes LayerNorm with GPT-2's epsilon, 1e-5.
  if (base && base.config.layerNormEpsilon !== 1e-5) throw new Error(`${base.source}: layer_norm_epsilon ${base.config.layerNormEpsilon} is not supported (1e-5 only)`);
  if (base && options.context > base.config.nPositions) throw new Error(`context ${options.context} exceeds ${base.source}'s ${base.config.nPositions} positions`);
  const corpus = await readEventCorpus(events, {
    context: options.context,
    validationShare: options.validationShare,
    ...(base ? { base: base.vocabulary } : {}),
  });
  const { vocabulary } = corpus;
  if (corpus.skipped > 0) {
    const where = corpus.skippedLines.map(({ line, error }) => `line ${line} (${error})`).join(', ');
    log(`skipped ${corpus.skipped} invalid line(s): ${where}${corpus.skipped > corpus.skippedLines.length ? ', ...' : ''}`);
  }
  const name = typeof events === 'string' ? events : events.name;
  const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  if (corpus.learnableSessions < MIN_TRAIN_SESSIONS) {
    throw new Error(
      `${name} is too little to train on: ${plural(corpus.events, 'event')} in ${plural(corpus.sessions, 'session')}, ${corpus.learnableSessions} of them with 2 or more events; ` +
        `hunch train needs at least ${MIN_TRAIN_SESSIONS} sessions of 2 or more events (a next event to learn from, and sessions to hold out for validation)`,
    );
  }
  if (options.validationShare > 0 && !corpus.validation.some((row) => row.length > 2)) {
    throw new Error(
      `${name} is too little to validate on: the latest ${corpus.validationSessions} of its ${plural(corpus.sessions, 'session')} (${options.validationShare * 100}%), held out for validation, ` +
        `hold nothing to predict (sessions of 1 event); hunch train needs more sessions`,
    );
  }
  log(
    `read ${corpus.events} events in ${corpus.sessions} sessions: ${corpus.train.length} training and ${corpus.validation.length} validation sequences, ` +
      `vocabulary ${vocabulary.size}${base ? ` (${base.config.vocabSize} from ${base.source})` : ''}`,
  );
  // P(the session ends in a purchase), shipped with the model when the events allow (session-purchase.ts).
  const purchase = await fitSessionPurchase(typeof events === 'string' ? ndjsonSource(events) : events, corpus.sessions);
  log(purchase.message);
  const from = base && initFromBase(base, vocabulary, options.context, options.seed);

  const isItem = Uint8Array.from(vocabulary.tokens, (token) => (isItemToken(token) ? 1 : 0));
  // The candidates a full softmax would score: items and every token seen as a target.
  const seen = new Uint8Array(vocabulary.size);
  for (const row of corpus.train) for (let t = 1; t < row.length; t++) seen[row[t]!] = 1;
  const candidates = isItem.reduce((n, item, id) => n + (item || seen[id] ? 1 : 0), 0);
  const negatives = negativesFor(candidates, options.fullSoftmaxMax, options.negatives);
  const targets = corpus.train.reduce((n, row) => n + row.length - 1, 0);
  const config = from?.config;
  const attributes = options.catalog && catalogAttributes(vocabulary, options.catalog);
  if (options.catalog) {
    log(
      attributes
        ? `item attributes: ${attributes.names.length} from the catalog, on ${attributes.itemsWithAttributes} of ${vocabulary.items().length} items`
        : 'item attributes: none in the catalog that two items share; items are learned without them',
    );
  }
  // The teacher's pass, inside the budget: training gets what is left after it.
  const distilled = distilTargets(
    corpus.train,
    isItem,
    options.distil ?? {},
    { ...(options.timeBudget === undefined ? {} : { budgetSeconds: options.timeBudget * 60 }), itemAttributes: attributes !== undefined },
    log,
    corpus.trainSessions,
  );
  let timeBudget: { seconds: number } | undefined;
  if (options.timeBudget !== undefined) {
    const budgetSeconds = options.timeBudget * 60;
    const spent = (performance.now() - startedAt) / 1000;
    // Kept back: writing the checkpoint, and timing that misjudges.
    const seconds = budgetSeconds - spent - (5 + 0.02 * budgetSeconds);
    log(`time budget ${options.timeBudget} min: ${spent.toFixed(0)} s spent reading${distilled ? ` (${distilled.report.seconds.toFixed(1)} s of it on STAN's soft targets)` : ''}, ${seconds > 1 ? `${seconds.toFixed(0)} s left for training` : 'nothing left for training: it runs only the steps it times'}`);
    timeBudget = { seconds: Math.max(1, seconds) };
  }
  const trained = await trainSequences(
    corpus.train,
    { vocabSize: vocabulary.size, isItem },
    {
      layers: config?.nLayer ?? options.layers,
      embd: config?.nEmbd ?? options.embd,
      heads: config?.nHead ?? options.heads,
      context: options.context,
      epochs: options.epochs,
      batchTokens: options.batchTokens,
      lr: options.lr,
      weightDecay: options.weightDecay,
      dropout: options.dropout,
      negatives,
      // Plain GPT-2 heads only: the exported ONNX graph computes exactly these logits.
      itemBias: false,
      repeat: false,
      ...(attributes ? { itemAttributes: { count: attributes.names.length, byToken: attributes.byToken } } : {}),
      seed: options.seed,
      workers: options.workers,
      ...(options.workerScript ? { workerScript: options.workerScript } : {}),
      ...(corpus.validation.length > 0
        ? {
            validation: {
              sequences: corpus.validation,
              // About twice an epoch.
              every: Math.max(1, Math.round(targets / options.batchTokens / 2)),
              patience: options.patience,
              minPosition: 1,
            },
          }
        : {}),
      ...(state ? { state } : {}),
      ...(timeBudget ? { timeBudget } : {}),
      ...(options.stopAfter !== undefined ? { stopAfter: options.stopAfter } : {}),
      ...(from ? { init: from.init } : {}),
      ...(distilled ? { distil: distilled.distil } : {}),
      log,
    },
  );
  const keptStep = trained.bestStep > 0 ? trained.bestStep : trained.steps;
  const lastLosses = trained.history.filter((h) => h.step <= keptStep).slice(-10).map((h) => h.loss);
  const checkpoint: Checkpoint = {
    config: trained.config,
    weights: trained.weights,
    metadata: {
      format: 'hunch-checkpoint',
      vocabulary: [...vocabulary.tokens],
      merges: vocabulary.merges.map(([a, b]): [string, string] => [a, b]),
      itemCounts: corpus.itemCounts,
      ...(attributes ? { attributes: attributes.names } : {}),
      ...(purchase.model ? { purchase: purchase.model } : {}),
      training: {
        events: corpus.events,
        sessions: corpus.sessions,
        sequences: corpus.train.length,
        steps: trained.steps,
        keptStep,
        epochs: options.epochs,
        finalLoss: lastLosses.length ? mean(lastLosses) : NaN,
        seed: options.seed,
        skippedLines: corpus.skipped,
        batch: options.batchTokens,
        learningRate: options.lr,
        softmax: negatives === 0 ? 'full' : negatives,
        validation: corpus.validation.length > 0 ? { sequences: corpus.validation.length, mrr20: trained.bestValMrr } : null,
        base: base?.source ?? null,
        seconds: trained.seconds,
        tokensPerSecond: trained.tokensPerSecond,
      },
    },
    ...(base?.tokenizer !== undefined ? { tokenizer: extendTokenizerJson(base.tokenizer, vocabulary, base.config.vocabSize) } : {}),
  };
  return { checkpoint, trained, skipped: corpus.skipped, skippedLines: corpus.skippedLines, purchase };
}
