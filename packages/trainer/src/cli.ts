/**
 * The `hunch` command line: simulate | train | shards | soft-targets | export | benchmark | eval | collect | report | policy | retrain | rollback. Argument
 * parsing and reporting only; the work lives in the modules it calls. Errors are one line on
 * stderr with a non-zero exit, so scripts and CI can rely on them.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { isItemToken, isPostgresUrl, locationName } from '@hunch/core';
import { readCatalog } from './catalog.js';
import { logBackendTo } from './backend.js';
import { writeCheckpoint } from './checkpoint.js';
import type { BenchmarkInput } from './eval/benchmark-data.js';
import { evaluateCheckpoint } from './evaluate-checkpoint.js';
import { isSqliteFile, ndjsonSource, storeSource, type EventSource } from './event-source.js';
import { exportModel, parseQuant } from './export.js';
import { readBaseModel } from './base-model.js';
import { modelFiles } from './model-directory.js';
import { Attributor, parseSplit, reportFromAttribution, ReportError, reportHtml, reportText } from './report/index.js';
import { simulateEvents } from './simulate.js';
import { parseCosts, parseRewardKind, PolicyError, policyFromLogs, policyText } from './strategies/index.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, DEFAULT_TRAIN_MINUTES, trainEvents } from './train-events.js';
import { DEFAULT_BENCHMARK_MINUTES, DIGINETICA_RECIPE, runBenchmark } from './benchmark.js';
import { runColdItemsBenchmark } from './cold-items-benchmark.js';
import { benchmarkTokenData, eventTokenData } from './shard-sources.js';
import { readShards, writeShards } from './shards.js';
import { DEFAULT_DISTIL_K, DEFAULT_DISTIL_WEIGHT, DISTIL_BUDGET_SHARE, type DistilChoice } from './distillation.js';
import { DEFAULT_SOFT_TARGET_K, neighbourhoodSoftTargets, SOFT_TARGET_TEACHERS, writeSoftTargets, type SoftTargetTeacher } from './soft-targets.js';
import { parseTimeBudget } from './train/budget.js';
import { DEFAULT_HOLDOUT_SHARE, MIN_HOLDOUT_SESSIONS } from './retrain/holdout.js';
import { DEFAULT_TOLERANCE } from './retrain/decision.js';
import { rollbackModel } from './retrain/publish.js';
import { retrain, type RetrainReport } from './retrain/retrain.js';

/** Training state is saved this often (steps) by `hunch benchmark --state`. */
const DEFAULT_STATE_EVERY = 500;
/** `hunch collect` defaults (the collector's own, repeated here so USAGE needs no import). */
const DEFAULT_COLLECT_PORT = 8787;
const DEFAULT_COLLECT_RATE = 200;

/** `--distil` and `--distil-k`, continued under `indent`. */
const distilUsage = (indent: string) =>
  `[--distil α (weight of STAN's soft targets taught beside the next item, 0: off; default ${DEFAULT_DISTIL_WEIGHT} when STAN's pass over the training\n` +
  `${indent} positions is predicted to take at most ${Math.round(DISTIL_BUDGET_SHARE * 100)}% of the time budget and items have no attributes, else off) --distil-k ${DEFAULT_DISTIL_K} (STAN's best items a position)]`;

/** Each command's usage lines, for `hunch COMMAND --help` and `hunch help COMMAND`. */
const COMMAND_USAGE: Record<string, string> = {
  simulate: `  hunch simulate --catalog catalog.json --sessions N [--seed S] --out events.ndjson`,
  train: `  hunch train (--events events.ndjson | --from events.sqlite|postgres://...) --out CHECKPOINT_DIR [--from-model GPT2_OR_CHECKPOINT_DIR]
              [--catalog catalog.json (items composed with their attributes: category, brand, attributes, price, title words)]
              [--layers 2 --embd 32 --heads 2] [--context 32 --epochs ${DEFAULT_EVENT_TRAIN_OPTIONS.epochs} --batch-tokens ${DEFAULT_EVENT_TRAIN_OPTIONS.batchTokens}
              --lr ${DEFAULT_EVENT_TRAIN_OPTIONS.lr} --dropout ${DEFAULT_EVENT_TRAIN_OPTIONS.dropout} --seed ${DEFAULT_EVENT_TRAIN_OPTIONS.seed} --workers ${DEFAULT_EVENT_TRAIN_OPTIONS.workers}]
              [--state DIR [--state-every ${DEFAULT_STATE_EVERY}] [--resume]]
              [--time-budget MINUTES (the whole run; training sets its steps to fit, at most --epochs; default ${DEFAULT_TRAIN_MINUTES})]
              ${distilUsage('              ')}`,
  shards: `  hunch shards (--events events.ndjson | --from events.sqlite) --out SHARDS_DIR [--context 32]
  hunch shards --format sessions --train FILE[.gz] --test FILE --out SHARDS_DIR
  hunch shards --format sequences --data FILE --out SHARDS_DIR
               (the token sequences the Node trainer trains on, for packages/trainer/torch/train.py)`,
  'soft-targets': `  hunch soft-targets --shards SHARDS_DIR [--out DIR (default SHARDS_DIR)] [--k ${DEFAULT_SOFT_TARGET_K}] [--teacher sknn|stan] [--share 1] [--seed 1]
               (session-kNN's (or STAN's) k best items for every training prefix of the shards, its own session left out,
               for train.py --distil; --share: the share of positions given targets)`,
  export: `  hunch export --model CHECKPOINT_DIR --catalog catalog.json --out MODEL_DIR [--quant fp32,int8,q4 (the default; add pq for the product-quantized item table)]
               [--pq-subspaces M (pq: bytes per item; default the most of 8-32 whose codes fit 12 MB)]
               [--pq-rotation-rounds N (pq: OPQ rounds learning a rotation before quantizing; default 0, none)]
               [--policy policy.json (written by hunch policy; validated, shipped with the model, listed with its hash in hunch.json)]`,
  benchmark: `  hunch benchmark --format sessions --train FILE[.gz] --test FILE [--json] [--predictions FILE] [--out CHECKPOINT_DIR]
                  [--state DIR [--state-every ${DEFAULT_STATE_EVERY}] [--resume]] [--seed S --workers 2 --epochs N (at most; default by data size)]
                  [--negatives full|N (full: softmax over every item; N: sampled negatives a step; default: full up to ${DIGINETICA_RECIPE.negatives} items, else ${DIGINETICA_RECIPE.negatives})]
                  [--time-budget MINUTES (the whole run, evaluation included; training sets its steps to fit; default ${DEFAULT_BENCHMARK_MINUTES})]
                  ${distilUsage('                  ')}
  hunch benchmark --format sequences --data FILE [same options]
                  [--attributes ITEM2ATTRIBUTES.json (either format: item vectors composed with their attributes', items training
                  never saw known by their attributes alone)]
  hunch benchmark --cold-items --format sequences --data FILE --attributes ITEM2ATTRIBUTES.json [--new-every 10] [--json]
                  [--embedding-drop 0 (share of items trained from their attributes alone each step)]
                  [--seed S --workers 2 --epochs N --negatives full|N --time-budget MINUTES] (new items: numeric ids divisible by --new-every, never
                  trained on; the model with and without attribute-composed item vectors and an attribute-only baseline, metrics
                  apart for new and known test targets)`,
  eval: `  hunch eval --model CHECKPOINT_DIR --format sessions --train FILE[.gz] --test FILE [--json] [--predictions FILE]
  hunch eval --model CHECKPOINT_DIR --format sequences --data FILE [--json] [--predictions FILE]`,
  collect: `  hunch collect --db events.sqlite|postgres://USER@HOST/DB [--port ${DEFAULT_COLLECT_PORT} --host 127.0.0.1 --path /collect --allow-origin ORIGIN[,ORIGIN] (repeatable)
                --rate ${DEFAULT_COLLECT_RATE} (events/s per client, 0 = no limit) --trust-proxy --sync full|normal (SQLite's)]`,
  report: `  hunch report --from events.sqlite|events.ndjson|postgres://... [--experiment KEY] [--json] [--html FILE] [--control ARM]
               [--holdout SHARE (hunch-holdout's held-out share, default 0.1)] [--split KEY=arm:weight,arm:weight (repeatable)]
               [--plan SHOPPERS (per arm the experiment is planned to reach; tunes the always-valid intervals, default 5000)]`,
  retrain: `  hunch retrain (--events events.ndjson | --from events.sqlite|postgres://...) --model LIVE_MODEL_DIR [--catalog catalog.json (default: the live model's)]
                [--time-budget MINUTES (the whole run; default ${DEFAULT_TRAIN_MINUTES})] [--holdout-share ${DEFAULT_HOLDOUT_SHARE} (the latest sessions, at least ${MIN_HOLDOUT_SESSIONS})]
                [--tolerance ${DEFAULT_TOLERANCE} (publish when the candidate's held-out MRR@20 >= the live model's - this)] [--seed S --workers N --epochs N --lr LR]
                (fine-tunes the live model on the events, scores both on the same latest held-out sessions, and publishes into LIVE_MODEL_DIR,
                hunch.json last, only when the candidate is not worse; last stdout line: the decision as JSON; exit 0 published, 2 refused)`,
  rollback: `  hunch rollback --model LIVE_MODEL_DIR (restores the version hunch retrain replaced; last stdout line: JSON; exit 0 rolled back, 2 refused)`,
  policy: `  hunch policy --from events.sqlite|events.ndjson|postgres://... --out policy.json [--current policy.json (default: none yet, uniform exploration)]
               [--costs action=cost,... (per purchase, e.g. incentive=5)] [--epsilon E (default from the evidence: 0.1 to 0.05)] [--id ID] [--check-share 0.5] [--seed 0]
               [--reward net|revenue|conversion|add_to_cart|click (what it is learned for and checked on; default net: revenue less --costs)]
               (decision events must carry params.features; writes policy.json only when it is estimated to beat --current, else exit 2)`,
};

const ENVIRONMENT = 'environment: HUNCH_TFJS_BACKEND=wasm|cpu|tensorflow (default: tensorflow when @tensorflow/tfjs-node is installed, else wasm)';

const USAGE = `usage:
${Object.values(COMMAND_USAGE).join('\n')}
${ENVIRONMENT}`;

/** One command's usage (the environment line only for the commands that compute with TensorFlow.js). */
const commandUsage = (command: string): string =>
  `usage:\n${COMMAND_USAGE[command]}${TFJS_COMMANDS.has(command) ? `\n${ENVIRONMENT}` : ''}`;

class UsageError extends Error {}

type Flags = Record<string, string | undefined>;

/**
 * Parses `--name value` options, `--flag` switches (read as "true") and repeatable options
 * (`lists`: every value, joined with commas).
 */
function parse(args: string[], names: string[], switches: string[] = [], lists: string[] = []): Flags {
  try {
    const { values } = parseArgs({
      args,
      options: {
        ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries(switches.map((name) => [name, { type: 'boolean' as const }])),
        ...Object.fromEntries(lists.map((name) => [name, { type: 'string' as const, multiple: true as const }])),
      },
      strict: true,
      allowPositionals: false,
    });
    const text = (value: unknown) => (value === true ? 'true' : Array.isArray(value) ? value.join(',') : (value as string));
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, text(value)]));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
}

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function integer(flags: Flags, name: string, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** `--negatives full|N`: 0 for the full softmax over every item, else N sampled negatives a step; undefined when not given (the recipe decides). */
function negativesFlag(flags: Flags): number | undefined {
  const raw = flags.negatives;
  if (raw === undefined) return undefined;
  if (raw === 'full') return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--negatives must be "full" or a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function number(flags: Flags, name: string, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

async function simulateCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['catalog', 'sessions', 'seed', 'out']);
  const catalog = await readCatalog(required(flags, 'catalog'));
  const out = required(flags, 'out');
  const sessions = integer(flags, 'sessions', 1000);
  const seed = integer(flags, 'seed', 1);
  await mkdir(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  let lines = 0;
  for (const event of simulateEvents(catalog, { sessions, seed })) {
    if (!stream.write(`${JSON.stringify(event)}\n`)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    lines++;
  }
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  console.error(`simulated ${sessions} sessions, ${lines} events -> ${out}`);
}

/**
 * `--from DB`: the collector's database (an SQLite file or a postgres:// URL), read-only, as a
 * training source. The collector is loaded only here and in `collect`: other commands never
 * load its native SQLite.
 */
async function openCollectedEvents(location: string): Promise<EventSource & { close(): Promise<void> }> {
  const { openEventStore } = await import('@hunch/collector');
  const { store, name } = await openEventStore(location, { readonly: true });
  return { ...storeSource(name, store), close: () => store.close() };
}

async function trainCommand(args: string[]): Promise<void> {
  const flags = parse(
    args,
    ['events', 'from', 'out', 'catalog', 'from-model', 'layers', 'embd', 'heads', 'context', 'epochs', 'batch-tokens', 'lr', 'dropout', 'seed', 'workers', 'state', 'state-every', 'time-budget', 'distil', 'distil-k'],
    ['resume'],
  );
  if (flags.events !== undefined && flags.from !== undefined) throw new UsageError('give either --events FILE or --from DB, not both');
  if (!flags.events && !flags.from) throw new UsageError('--events FILE (NDJSON) or --from DB (a "hunch collect" database) is required');
  const out = required(flags, 'out');
  const d = DEFAULT_EVENT_TRAIN_OPTIONS;
  const fromModel = flags['from-model'];
  const architecture = ['layers', 'embd', 'heads'].filter((name) => flags[name] !== undefined);
  if (fromModel !== undefined && architecture.length > 0) throw new UsageError(`--${architecture[0]} comes from --from-model's config`);
  const resume = flags.resume === 'true';
  if (resume && flags.state === undefined) throw new UsageError('--resume needs --state DIR (where the training state is saved)');
  if (flags['state-every'] !== undefined && flags.state === undefined) throw new UsageError('--state-every needs --state DIR');
  const every = integer(flags, 'state-every', DEFAULT_STATE_EVERY);
  if (every < 1) throw new UsageError('--state-every must be at least 1');
  const dropout = flags.dropout === undefined ? d.dropout : Number(flags.dropout);
  if (!(dropout >= 0 && dropout < 1)) throw new UsageError(`--dropout must be in [0, 1), got ${JSON.stringify(flags.dropout)}`);
  for (const name of ['layers', 'embd', 'heads', 'epochs', 'batch-tokens', 'workers']) {
    if (integer(flags, name, 1) < 1) throw new UsageError(`--${name} must be at least 1`);
  }
  const timeBudget = timeBudgetFlag(flags, DEFAULT_TRAIN_MINUTES);
  const distil = distilFlags(flags);
  const base = fromModel === undefined ? undefined : await readBaseModel(fromModel);
  // Shop histories are short: the default context, within a base model's positions.
  const context = integer(flags, 'context', base ? Math.min(base.config.nPositions, d.context) : d.context);
  if (context < 2) throw new UsageError('--context must be at least 2');
  const catalog = flags.catalog === undefined ? undefined : await readCatalog(flags.catalog);
  const events = flags.from === undefined ? required(flags, 'events') : await openCollectedEvents(flags.from);
  let result;
  try {
    result = await trainEvents(events, {
      ...d,
      layers: integer(flags, 'layers', d.layers),
      embd: integer(flags, 'embd', d.embd),
      heads: integer(flags, 'heads', d.heads),
      context,
      epochs: integer(flags, 'epochs', d.epochs),
      batchTokens: integer(flags, 'batch-tokens', d.batchTokens),
      lr: number(flags, 'lr', d.lr),
      dropout,
      seed: integer(flags, 'seed', d.seed),
      workers: integer(flags, 'workers', d.workers),
      ...(flags.state === undefined ? {} : { state: { dir: flags.state, every, resume } }),
      ...(base ? { base } : {}),
      ...(catalog ? { catalog } : {}),
      timeBudget,
      distil,
      startedAt: 0,
      log,
    });
  } finally {
    if (typeof events !== 'string') await events.close();
  }
  const { checkpoint, trained } = result;
  await writeCheckpoint(out, checkpoint);
  const { training } = checkpoint.metadata;
  console.error(
    `checkpoint -> ${out} (${trained.steps} steps in ${trained.seconds.toFixed(1)} s, kept step ${training.keptStep}, ` +
      `final loss ${training.finalLoss.toFixed(4)}${training.validation ? `, validation MRR@20 ${training.validation.mrr20.toFixed(4)}` : ''})`,
  );
}

async function shardsCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['events', 'from', 'format', 'train', 'test', 'data', 'out', 'context']);
  const out = required(flags, 'out');
  const sources = ['events', 'from', 'format'].filter((name) => flags[name] !== undefined);
  if (sources.length !== 1) throw new UsageError('give one of --events FILE, --from DB or --format sessions|sequences');
  let data;
  if (flags.format !== undefined) {
    if (flags.context !== undefined) throw new UsageError('--context is the trainer\'s with --format (train.py --context)');
    data = await benchmarkTokenData(benchmarkInput(flags));
  } else {
    const context = integer(flags, 'context', DEFAULT_EVENT_TRAIN_OPTIONS.context);
    if (context < 2) throw new UsageError('--context must be at least 2');
    const events = flags.from === undefined ? required(flags, 'events') : await openCollectedEvents(flags.from);
    try {
      data = await eventTokenData(events, { context, validationShare: DEFAULT_EVENT_TRAIN_OPTIONS.validationShare });
    } finally {
      if (typeof events !== 'string') await events.close();
    }
    if (data.skipped > 0) log(`skipped ${data.skipped} invalid line(s)`);
  }
  const manifest = await writeShards(out, data);
  console.error(
    `shards -> ${out}: ${manifest.sequences} training sequences (${manifest.tokens} tokens) in ${manifest.train.length} file(s), ` +
      `${data.validation.length} validation sequences, vocabulary ${manifest.vocabulary.length}`,
  );
}

async function softTargetsCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['shards', 'out', 'k', 'teacher', 'share', 'seed']);
  const shards = required(flags, 'shards');
  const out = flags.out ?? shards;
  const k = integer(flags, 'k', DEFAULT_SOFT_TARGET_K);
  if (k < 1) throw new UsageError('--k must be at least 1');
  const share = number(flags, 'share', 1);
  if (share > 1) throw new UsageError(`--share must be at most 1, got ${share}`);
  const seed = integer(flags, 'seed', 1);
  const teacher = (flags.teacher ?? 'sknn') as SoftTargetTeacher;
  if (!SOFT_TARGET_TEACHERS.includes(teacher)) throw new UsageError(`--teacher: one of ${SOFT_TARGET_TEACHERS.join(', ')}, got ${flags.teacher}`);
  const { manifest, train } = await readShards(shards);
  const isItem = manifest.vocabulary.map(isItemToken);
  const started = performance.now();
  const targets = neighbourhoodSoftTargets(train, (token) => isItem[token]!, manifest.vocabulary.length, { k, teacher, share, seed });
  const seconds = (performance.now() - started) / 1000;
  await mkdir(out, { recursive: true });
  await writeSoftTargets(out, targets, { share, seed, sequences: train.length, tokens: manifest.tokens });
  console.error(`soft targets -> ${out}: ${targets.covered} of ${targets.positions} positions, ${k} items each from ${teacher}, in ${seconds.toFixed(1)} s`);
}

async function exportCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['model', 'catalog', 'out', 'quant', 'policy', 'pq-subspaces', 'pq-rotation-rounds']);
  const pqSubspaces = flags['pq-subspaces'] === undefined ? undefined : Number(flags['pq-subspaces']);
  if (pqSubspaces !== undefined && !(Number.isInteger(pqSubspaces) && pqSubspaces >= 1)) throw new UsageError(`--pq-subspaces: a positive integer, got ${flags['pq-subspaces']}`);
  const pqRotationRounds = flags['pq-rotation-rounds'] === undefined ? undefined : Number(flags['pq-rotation-rounds']);
  if (pqRotationRounds !== undefined && !(Number.isInteger(pqRotationRounds) && pqRotationRounds >= 0)) throw new UsageError(`--pq-rotation-rounds: an integer ≥ 0, got ${flags['pq-rotation-rounds']}`);
  let quant;
  try {
    quant = flags.quant === undefined ? undefined : parseQuant(flags.quant);
  } catch (error) {
    throw new UsageError(`--quant: ${(error as Error).message}`);
  }
  // SOURCE_DATE_EPOCH (the reproducible-builds convention) pins createdAt, so the same
  // checkpoint exports to the same bytes.
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const manifest = await exportModel({
    checkpoint: required(flags, 'model'),
    catalog: required(flags, 'catalog'),
    out: required(flags, 'out'),
    ...(quant ? { quant } : {}),
    ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
    ...(pqSubspaces !== undefined ? { pqSubspaces } : {}),
    ...(pqRotationRounds !== undefined ? { pqRotationRounds } : {}),
    ...(epoch && /^\d+$/.test(epoch) ? { createdAt: new Date(Number(epoch) * 1000).toISOString() } : {}),
  });
  const files = await modelFiles(flags.out!, manifest);
  const bytes = files.reduce((sum, [, file]) => sum + file.bytes, 0);
  console.error(`exported model ${manifest.version}: hunch.json + ${files.length} files, ${bytes} bytes${manifest.policy ? `, with policy ${manifest.policy}` : ''} -> ${flags.out}`);
}

/** `--format` with its files, as benchmark and eval take them. */
function benchmarkInput(flags: Flags): BenchmarkInput {
  const format = required(flags, 'format');
  if (format === 'sessions') return { format, train: required(flags, 'train'), test: required(flags, 'test') };
  if (format === 'sequences') return { format, data: required(flags, 'data') };
  throw new UsageError(`--format must be "sessions" or "sequences", got ${JSON.stringify(format)}`);
}

/** `--predictions FILE`: every test example's top-20 raw ids, one line each, in protocol order. */
function predictionsWriter(path: string | undefined): { onPredictions?: (top: string[]) => void; close(): Promise<void> } {
  if (path === undefined) return { close: async () => {} };
  const stream = createWriteStream(path);
  return {
    onPredictions: (top) => stream.write(`${top.join(' ')}\n`),
    close: () => new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve()))),
  };
}

/** The metrics table (unless --json), then always the whole result as one JSON object: the last stdout line. */
function report(result: { model: Record<string, number>; baselines: Record<string, Record<string, number>> }, json: boolean): void {
  if (!json) {
    const row = (name: string, m: Record<string, number>) =>
      `${name.padEnd(12)} ${['HR@10', 'NDCG@10', 'P@20', 'MRR@20'].map((k) => m[k]!.toFixed(4).padStart(8)).join('')}`;
    console.log(`${''.padEnd(12)}    HR@10 NDCG@10    P@20  MRR@20`);
    console.log(row('model', result.model));
    for (const [name, metrics] of Object.entries(result.baselines)) console.log(row(name, metrics));
  }
  console.log(JSON.stringify(result));
}

const log = (line: string) => console.error(line);

/** `--state DIR [--state-every N] [--resume]`: where training state is saved, and whether to continue it. */
function stateFlags(flags: Flags): { dir: string; every: number; resume: boolean } | undefined {
  const resume = flags.resume === 'true';
  if (resume && flags.state === undefined) throw new UsageError('--resume needs --state DIR (where the training state is saved)');
  if (flags['state-every'] !== undefined && flags.state === undefined) throw new UsageError('--state-every needs --state DIR');
  const every = integer(flags, 'state-every', DEFAULT_STATE_EVERY);
  if (every < 1) throw new UsageError('--state-every must be at least 1');
  return flags.state === undefined ? undefined : { dir: flags.state, every, resume };
}

/** `--time-budget MINUTES`, or the command's default; a bad value is a one-line usage error. */
function timeBudgetFlag(flags: Flags, fallback: number): number {
  const value = flags['time-budget'];
  if (value === undefined) return fallback;
  try {
    return parseTimeBudget(value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `--distil α` (0: off) and `--distil-k K`: distilling STAN (distillation.ts); absent, its default rule. */
function distilFlags(flags: Flags): DistilChoice {
  let weight: number | undefined;
  if (flags.distil !== undefined) {
    weight = Number(flags.distil);
    if (flags.distil.trim() === '' || !Number.isFinite(weight) || weight < 0) throw new UsageError(`--distil must be a number >= 0 (0: off), got ${JSON.stringify(flags.distil)}`);
  }
  const k = flags['distil-k'] === undefined ? undefined : integer(flags, 'distil-k', DEFAULT_DISTIL_K);
  if (k !== undefined && k < 1) throw new UsageError('--distil-k must be at least 1');
  if (k !== undefined && weight === 0) throw new UsageError('--distil-k goes with distillation on (--distil 0 turns it off)');
  return { ...(weight === undefined ? {} : { weight }), ...(k === undefined ? {} : { k }) };
}

/** `--epochs N` and `--negatives full|N`: the benchmark's overrides of its recipe, undefined without any. */
function trainOverrides(flags: Flags): { epochs?: number; negatives?: number } | undefined {
  const epochs = flags.epochs === undefined ? undefined : integer(flags, 'epochs', 1);
  const negatives = negativesFlag(flags);
  if (epochs === undefined && negatives === undefined) return undefined;
  return { ...(epochs === undefined ? {} : { epochs }), ...(negatives === undefined ? {} : { negatives }) };
}

async function benchmarkCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['format', 'train', 'test', 'data', 'predictions', 'out', 'state', 'state-every', 'seed', 'workers', 'epochs', 'time-budget', 'attributes', 'new-every', 'embedding-drop', 'negatives', 'distil', 'distil-k'], ['json', 'resume', 'cold-items']);
  if (flags['cold-items'] === 'true') {
    if (flags.distil !== undefined || flags['distil-k'] !== undefined) throw new UsageError('--distil and --distil-k do not go with --cold-items');
    return coldItemsCommand(flags);
  }
  if (flags['new-every'] !== undefined || flags['embedding-drop'] !== undefined) {
    throw new UsageError('--new-every and --embedding-drop go with --cold-items');
  }
  const input = benchmarkInput(flags);
  const timeBudgetMinutes = timeBudgetFlag(flags, DEFAULT_BENCHMARK_MINUTES);
  const state = stateFlags(flags);
  const train = trainOverrides(flags);
  const distil = distilFlags(flags);
  const predictions = predictionsWriter(flags.predictions);
  const result = await runBenchmark(input, {
    distil,
    seed: integer(flags, 'seed', 1),
    workers: integer(flags, 'workers', 2),
    timeBudgetMinutes,
    // The budget counts from the process start (performance.now()'s origin).
    startedAt: 0,
    ...(train ? { train } : {}),
    ...(predictions.onPredictions ? { onPredictions: predictions.onPredictions } : {}),
    ...(flags.out === undefined ? {} : { out: flags.out }),
    ...(state ? { state } : {}),
    ...(flags.attributes === undefined ? {} : { attributes: flags.attributes }),
    log,
  });
  await predictions.close();
  report(result, flags.json === 'true');
}

/** `hunch benchmark --cold-items`: the new-items protocol (cold-items-benchmark.ts); a table unless --json, then the JSON line. */
async function coldItemsCommand(flags: Flags): Promise<void> {
  const input = benchmarkInput(flags);
  if (input.format !== 'sequences') throw new UsageError('--cold-items needs --format sequences (leave-one-out data)');
  for (const name of ['predictions', 'out', 'state', 'resume']) if (flags[name] !== undefined) throw new UsageError(`--${name} does not go with --cold-items`);
  const newEvery = integer(flags, 'new-every', 10);
  if (newEvery < 2) throw new UsageError('--new-every must be at least 2');
  const train = trainOverrides(flags);
  const embeddingDrop = flags['embedding-drop'] === undefined ? 0 : Number(flags['embedding-drop']);
  if (!(embeddingDrop >= 0 && embeddingDrop < 1)) throw new UsageError(`--embedding-drop must be a share in [0, 1), got ${flags['embedding-drop']}`);
  const result = await runColdItemsBenchmark({
    embeddingDrop,
    data: input.data,
    attributes: required(flags, 'attributes'),
    newEvery,
    seed: integer(flags, 'seed', 1),
    workers: integer(flags, 'workers', 2),
    timeBudgetMinutes: timeBudgetFlag(flags, DEFAULT_BENCHMARK_MINUTES),
    startedAt: 0,
    ...(train ? { train } : {}),
    log,
  });
  if (flags.json !== 'true') {
    const rows: Array<[string, { new: Record<string, number>; known: Record<string, number> }]> = [
      ['with attrs', result.model_with_attributes],
      ['no attrs', result.model_without_attributes],
      ...Object.entries(result.baselines),
    ];
    console.log(`${''.padEnd(12)} new HR@10 NDCG@10  known HR@10 NDCG@10`);
    for (const [name, m] of rows) {
      console.log(`${name.padEnd(12)} ${m.new['HR@10']!.toFixed(4).padStart(9)} ${m.new['NDCG@10']!.toFixed(4).padStart(7)}  ${m.known['HR@10']!.toFixed(4).padStart(11)} ${m.known['NDCG@10']!.toFixed(4).padStart(7)}`);
    }
  }
  console.log(JSON.stringify(result));
}

async function evalCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['model', 'format', 'train', 'test', 'data', 'predictions'], ['json']);
  const model = required(flags, 'model');
  const input = benchmarkInput(flags);
  const predictions = predictionsWriter(flags.predictions);
  const result = await evaluateCheckpoint(input, { model, ...(predictions.onPredictions ? { onPredictions: predictions.onPredictions } : {}), log });
  await predictions.close();
  report(result, flags.json === 'true');
}

/** `hunch collect`: serves the upload endpoint until SIGINT or SIGTERM, then closes the database. */
async function collectCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['db', 'port', 'host', 'path', 'rate', 'sync'], ['trust-proxy'], ['allow-origin']);
  const db = required(flags, 'db');
  const port = integer(flags, 'port', DEFAULT_COLLECT_PORT);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const rate = flags.rate === undefined ? DEFAULT_COLLECT_RATE : Number(flags.rate);
  if (!(rate >= 0 && Number.isFinite(rate))) throw new UsageError(`--rate must be a number of events per second (0 = no limit), got ${JSON.stringify(flags.rate)}`);
  const sync = flags.sync ?? 'full';
  if (sync !== 'full' && sync !== 'normal') throw new UsageError(`--sync must be "full" or "normal", got ${JSON.stringify(sync)}`);
  const allowOrigins = (flags['allow-origin'] ?? '').split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  const { openEventStore, startCollector, checkAllowOrigins } = await import('@hunch/collector');
  if (flags.sync !== undefined && isPostgresUrl(db)) throw new UsageError("--sync is SQLite's: PostgreSQL's durability is the server's (synchronous_commit)");
  try {
    checkAllowOrigins(allowOrigins);
  } catch (error) {
    throw new UsageError(`--allow-origin: ${(error as Error).message}`);
  }
  const { store, name } = await openEventStore(db, { synchronous: sync });
  let collector;
  try {
    collector = await startCollector({
      store,
      port,
      ...(flags.host === undefined ? {} : { host: flags.host }),
      ...(flags.path === undefined ? {} : { path: flags.path }),
      allowOrigins,
      // Bursts of 5 s worth, and at least one full-size batch.
      rateLimit: rate === 0 ? false : { rate, burst: Math.max(rate * 5, 500), per: 'event' },
      trustProxy: flags['trust-proxy'] === 'true',
      onError: (error) => log(`hunch collect: ${error instanceof Error ? error.message : String(error)}`),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const origins = allowOrigins.length > 0 ? allowOrigins.join(', ') : 'none (only clients without an Origin header)';
  log(`collecting into ${name} (${await store.count()} events so far); allowed origins: ${origins}; rate limit: ${rate === 0 ? 'none' : `${rate} events/s per client`}`);
  // The URL alone on stdout, for scripts (with --port 0 it is the only way to learn the port).
  console.log(collector.url);
  const running = collector;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      // A second signal kills at once: safe, since only committed events were acknowledged.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log(`${signal}: stopping`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  // Requests in flight finish (and are acknowledged) before the database closes.
  await running.close();
  const stored = await store.count();
  await store.close();
  log(`stopped; ${name} holds ${stored} events`);
}

/** isSqliteFile, a missing or unreadable file being the report's one-line error. */
const isSqlite = (path: string): Promise<boolean> =>
  isSqliteFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new ReportError(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });

/** `hunch report`: experiments' uplift from a collector database or an NDJSON file; the text table, --json, and/or --html FILE. */
async function reportCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['from', 'experiment', 'html', 'control', 'holdout', 'plan'], ['json'], ['split']);
  const from = required(flags, 'from');
  const plan = flags.plan === undefined ? undefined : Number(flags.plan);
  const holdout = flags.holdout === undefined ? undefined : Number(flags.holdout);
  if (holdout !== undefined && !(holdout > 0 && holdout < 1)) throw new UsageError(`--holdout must be a share between 0 and 1, got ${JSON.stringify(flags.holdout)}`);
  const options = {
    source: locationName(from),
    ...(flags.experiment === undefined ? {} : { experiment: flags.experiment }),
    ...(flags.control === undefined ? {} : { control: flags.control }),
    ...(holdout === undefined ? {} : { holdoutShare: holdout }),
    ...(plan === undefined ? {} : { plannedShoppers: plan }),
    ...(flags.split === undefined ? {} : { split: parseSplit(flags.split) }),
  };
  const source = isPostgresUrl(from) || (await isSqlite(from)) ? await openCollectedEvents(from) : { ...ndjsonSource(from), close: async () => {} };
  const attributor = new Attributor();
  let scan;
  try {
    scan = await source.scan((event) => attributor.add(event));
  } finally {
    await source.close();
  }
  const report = reportFromAttribution(attributor.finish(), options);
  if (scan.skipped > 0) report.invalid = { count: scan.skipped, examples: scan.skippedLines };
  if (flags.html !== undefined) {
    await mkdir(dirname(flags.html), { recursive: true });
    await writeFile(flags.html, reportHtml(report));
    log(`report page -> ${flags.html}`);
  }
  if (flags.json === 'true') console.log(JSON.stringify(report));
  else process.stdout.write(reportText(report));
}

/**
 * `hunch policy`: learns a policy from decision logs and writes it only when the ship rule holds;
 * the comparison as text, then as one JSON line. Not shipped: exit code 2 and one line on stderr.
 */
async function policyCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['from', 'out', 'current', 'costs', 'epsilon', 'id', 'check-share', 'seed', 'reward']);
  const from = required(flags, 'from');
  const out = required(flags, 'out');
  let costs;
  try {
    costs = flags.costs === undefined ? {} : parseCosts(flags.costs);
  } catch (error) {
    throw new UsageError(`--costs: ${(error as Error).message}`);
  }
  const epsilon = flags.epsilon === undefined ? undefined : Number(flags.epsilon);
  if (epsilon !== undefined && !(epsilon > 0 && epsilon <= 1)) throw new UsageError(`--epsilon must be in (0, 1], got ${JSON.stringify(flags.epsilon)}`);
  const checkShare = flags['check-share'] === undefined ? undefined : Number(flags['check-share']);
  if (checkShare !== undefined && !(checkShare > 0 && checkShare < 1)) throw new UsageError(`--check-share must be in (0, 1), got ${JSON.stringify(flags['check-share'])}`);
  let reward;
  try {
    reward = flags.reward === undefined ? 'net' : parseRewardKind(flags.reward);
  } catch (error) {
    throw new UsageError(`--reward ${(error as Error).message}`);
  }
  const result = await policyFromLogs({
    from,
    costs,
    reward,
    ...(flags.current === undefined ? {} : { current: flags.current }),
    ...(epsilon === undefined ? {} : { epsilon }),
    ...(flags.id === undefined ? {} : { id: flags.id }),
    ...(checkShare === undefined ? {} : { checkShare }),
    seed: integer(flags, 'seed', 0),
  });
  process.stdout.write(policyText(result));
  console.log(JSON.stringify({ ...result, policy: result.ship ? result.policy : undefined, out: result.ship ? out : null }));
  if (!result.ship) {
    console.error(`hunch policy: not shipped: ${result.reason}`);
    process.exitCode = 2;
    return;
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result.policy, null, 2)}\n`);
  log(`policy ${result.policy.id} -> ${out}`);
}

/** `hunch retrain`: its decision as the last stdout line, exit code 2 when it refuses. */
async function retrainCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['events', 'from', 'model', 'catalog', 'time-budget', 'holdout-share', 'tolerance', 'seed', 'workers', 'epochs', 'lr']);
  if (flags.events !== undefined && flags.from !== undefined) throw new UsageError('give either --events FILE or --from DB, not both');
  if (!flags.events && !flags.from) throw new UsageError('--events FILE (NDJSON) or --from DB (a "hunch collect" database) is required');
  const model = required(flags, 'model');
  const holdoutShare = number(flags, 'holdout-share', DEFAULT_HOLDOUT_SHARE);
  if (holdoutShare >= 1) throw new UsageError(`--holdout-share must be below 1, got ${holdoutShare}`);
  const tolerance = flags.tolerance === undefined ? DEFAULT_TOLERANCE : Number(flags.tolerance);
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new UsageError(`--tolerance must be a non-negative number, got ${JSON.stringify(flags.tolerance)}`);
  for (const name of ['epochs', 'workers']) if (integer(flags, name, 1) < 1) throw new UsageError(`--${name} must be at least 1`);
  const train = {
    ...(flags.seed === undefined ? {} : { seed: integer(flags, 'seed', 1) }),
    ...(flags.workers === undefined ? {} : { workers: integer(flags, 'workers', 1) }),
    ...(flags.epochs === undefined ? {} : { epochs: integer(flags, 'epochs', 1) }),
    ...(flags.lr === undefined ? {} : { lr: number(flags, 'lr', 1) }),
  };
  const timeBudget = timeBudgetFlag(flags, DEFAULT_TRAIN_MINUTES);
  const epoch = process.env.SOURCE_DATE_EPOCH;
  let result: RetrainReport;
  try {
    const events: EventSource & { close?(): Promise<void> } = flags.from === undefined ? ndjsonSource(required(flags, 'events')) : await openCollectedEvents(flags.from);
    try {
      result = await retrain(events, {
        model,
        ...(flags.catalog === undefined ? {} : { catalog: flags.catalog }),
        timeBudget,
        startedAt: 0,
        holdoutShare,
        tolerance,
        train,
        ...(epoch && /^\d+$/.test(epoch) ? { createdAt: new Date(Number(epoch) * 1000).toISOString() } : {}),
        log,
      });
    } finally {
      await events.close?.();
    }
  } catch (error) {
    // No model to read, no database to open: refused all the same, in the same shape.
    const reason = (error as Error).message.split('\n')[0]!;
    result = { decision: 'refused', reason, metrics: null, counts: null, versions: { live: null, published: null, previous: null }, paths: { model, published: null, previous: null } };
  }
  decisionLine('retrain', result);
}

/** `hunch rollback`: the version before the live one, restored; JSON last, exit code 2 when there is none to restore. */
async function rollbackCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['model']);
  const model = required(flags, 'model');
  try {
    const rolled = await rollbackModel(model);
    decisionLine('rollback', { decision: 'rolled-back', reason: `restored version ${rolled.to}, replacing ${rolled.from}`, versions: { live: rolled.to, removed: rolled.from }, paths: { model, restored: rolled.path } });
  } catch (error) {
    decisionLine('rollback', { decision: 'refused', reason: (error as Error).message.split('\n')[0]!, versions: null, paths: { model } });
  }
}

/** A decision: why on stderr (one line), the whole as JSON on the last stdout line; exit code 2 when refused. */
function decisionLine<T extends { decision: string; reason: string }>(command: string, result: T): void {
  console.error(`hunch ${command}: ${result.decision}: ${result.reason}`);
  console.log(JSON.stringify(result));
  if (result.decision === 'refused') process.exitCode = 2;
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  simulate: simulateCommand,
  train: trainCommand,
  shards: shardsCommand,
  'soft-targets': softTargetsCommand,
  export: exportCommand,
  benchmark: benchmarkCommand,
  eval: evalCommand,
  collect: collectCommand,
  report: reportCommand,
  policy: policyCommand,
  retrain: retrainCommand,
  rollback: rollbackCommand,
};

/** Commands that compute with TensorFlow.js: they name the backend on stderr when they start it. */
const TFJS_COMMANDS = new Set(['train', 'benchmark', 'eval', 'retrain']);

/** `--help` or `-h` anywhere before a `--`: the command's usage instead of running it. */
const asksHelp = (args: string[]): boolean => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
};

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  if (command === 'help') {
    // `hunch help COMMAND`: that command's usage; `hunch help`: all of them.
    const [topic] = args;
    if (topic === undefined) console.log(USAGE);
    else if (COMMANDS[topic]) console.log(commandUsage(topic));
    else throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
    return;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (asksHelp(args)) {
    console.log(commandUsage(command));
    return;
  }
  if (TFJS_COMMANDS.has(command)) logBackendTo(log);
  await run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ReportError) {
    // The data (or a report option) is not what a report needs: one line, exit code 1.
    console.error(`hunch report: ${message.split('\n')[0]}`);
    process.exitCode = 1;
    return;
  }
  if (error instanceof PolicyError) {
    console.error(`hunch policy: ${message.split('\n')[0]}`);
    process.exitCode = 1;
    return;
  }
  const hint = error instanceof UsageError ? ' (run "hunch help" for usage)' : '';
  console.error(`hunch: ${message.split('\n')[0]}${hint}`);
  process.exitCode = 1;
});
