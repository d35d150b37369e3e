/**
 * The `hunch` command line: simulate | train | export | benchmark. Argument parsing and reporting
 * only; the work lives in the modules it calls. Errors are one line on stderr with a
 * non-zero exit, so scripts and CI can rely on them.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readCatalog } from './catalog.js';
import { writeCheckpoint } from './checkpoint.js';
import { runBenchmark, type BenchmarkInput } from './benchmark.js';
import { exportModel } from './export.js';
import { readEvents } from './ndjson.js';
import { simulateEvents } from './simulate.js';
import { DEFAULT_TRAIN_OPTIONS, train, trainingCheckpoint } from './train.js';

const USAGE = `usage:
  hunch simulate --catalog catalog.json --sessions N [--seed S] --out events.ndjson
  hunch train --events events.ndjson --out CHECKPOINT_DIR [--layers 2 --embd 32 --heads 2 --context 32
              --steps ${DEFAULT_TRAIN_OPTIONS.steps} --batch ${DEFAULT_TRAIN_OPTIONS.batch} --lr ${DEFAULT_TRAIN_OPTIONS.lr} --seed ${DEFAULT_TRAIN_OPTIONS.seed}]
  hunch export --model CHECKPOINT_DIR --catalog catalog.json --out MODEL_DIR
  hunch benchmark --format sessions --train FILE[.gz] --test FILE [--json] [--predictions FILE] [--seed S --workers 2 --epochs N]
  hunch benchmark --format sequences --data FILE [--json] [--predictions FILE] [--seed S --workers 2 --epochs N]`;

class UsageError extends Error {}

type Flags = Record<string, string | undefined>;

/** Parses `--name value` options, and `--flag` switches (read as "true"). */
function parse(args: string[], names: string[], switches: string[] = []): Flags {
  try {
    const { values } = parseArgs({
      args,
      options: {
        ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries(switches.map((name) => [name, { type: 'boolean' as const }])),
      },
      strict: true,
      allowPositionals: false,
    });
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === true ? 'true' : (value as string)]));
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

async function trainCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['events', 'out', 'layers', 'embd', 'heads', 'context', 'steps', 'batch', 'lr', 'seed']);
  const eventsPath = required(flags, 'events');
  const out = required(flags, 'out');
  const d = DEFAULT_TRAIN_OPTIONS;
  const options = {
    layers: integer(flags, 'layers', d.layers),
    embd: integer(flags, 'embd', d.embd),
    heads: integer(flags, 'heads', d.heads),
    context: integer(flags, 'context', d.context),
    steps: integer(flags, 'steps', d.steps),
    batch: integer(flags, 'batch', d.batch),
    lr: number(flags, 'lr', d.lr),
    seed: integer(flags, 'seed', d.seed),
    log: (line: string) => console.error(line),
  };
  let read;
  try {
    read = await readEvents(eventsPath);
  } catch (error) {
    throw new Error(`cannot read ${eventsPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (read.skipped > 0) {
    const where = read.skippedLines.map(({ line, error }) => `line ${line} (${error})`).join(', ');
    console.error(`skipped ${read.skipped} invalid line(s): ${where}${read.skipped > read.skippedLines.length ? ', ...' : ''}`);
  }
  if (read.events.length === 0) throw new Error(`${eventsPath} holds no valid events`);
  console.error(`read ${read.events.length} events`);
  const result = await train(read.events, options);
  await writeCheckpoint(out, trainingCheckpoint(result, read.events.length, read.skipped));
  console.error(`checkpoint -> ${out}`);
}

async function exportCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['model', 'catalog', 'out']);
  // SOURCE_DATE_EPOCH (the reproducible-builds convention) pins createdAt, so the same
  // checkpoint exports to the same bytes.
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const manifest = await exportModel({
    checkpoint: required(flags, 'model'),
    catalog: required(flags, 'catalog'),
    out: required(flags, 'out'),
    ...(epoch && /^\d+$/.test(epoch) ? { createdAt: new Date(Number(epoch) * 1000).toISOString() } : {}),
  });
  const bytes = Object.values(manifest.files).reduce((sum, file) => sum + file.bytes, 0);
  console.error(`exported model ${manifest.version}: hunch.json + ${Object.keys(manifest.files).length} files, ${bytes} bytes -> ${flags.out}`);
}

async function benchmarkCommand(args: string[]): Promise<void> {
  const flags = parse(args, ['format', 'train', 'test', 'data', 'predictions', 'seed', 'workers', 'epochs'], ['json']);
  const format = required(flags, 'format');
  let input: BenchmarkInput;
  if (format === 'sessions') input = { format, train: required(flags, 'train'), test: required(flags, 'test') };
  else if (format === 'sequences') input = { format, data: required(flags, 'data') };
  else throw new UsageError(`--format must be "sessions" or "sequences", got ${JSON.stringify(format)}`);
  const predictionsPath = flags.predictions;
  const predictions = predictionsPath === undefined ? undefined : createWriteStream(predictionsPath);
  const epochs = flags.epochs === undefined ? undefined : integer(flags, 'epochs', 1);
  const result = await runBenchmark(input, {
    seed: integer(flags, 'seed', 1),
    workers: integer(flags, 'workers', 2),
    ...(epochs === undefined ? {} : { train: { epochs } }),
    ...(predictions ? { onPredictions: (top: string[]) => predictions.write(`${top.join(' ')}\n`) } : {}),
    log: (line) => console.error(line),
  });
  if (predictions) await new Promise<void>((resolve, reject) => predictions.end((error?: Error | null) => (error ? reject(error) : resolve())));
  if (flags.json !== 'true') {
    const row = (name: string, m: Record<string, number>) =>
      `${name.padEnd(12)} ${['HR@10', 'NDCG@10', 'P@20', 'MRR@20'].map((k) => m[k]!.toFixed(4).padStart(8)).join('')}`;
    console.log(`${''.padEnd(12)}    HR@10 NDCG@10    P@20  MRR@20`);
    console.log(row('model', result.model));
    for (const [name, metrics] of Object.entries(result.baselines)) console.log(row(name, metrics));
  }
  // The last stdout line is always the whole result as one JSON object.
  console.log(JSON.stringify(result));
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  simulate: simulateCommand,
  train: trainCommand,
  export: exportCommand,
  benchmark: benchmarkCommand,
};

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  await run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof UsageError ? ' (run "hunch help" for usage)' : '';
  console.error(`hunch: ${message.split('\n')[0]}${hint}`);
  process.exitCode = 1;
});
