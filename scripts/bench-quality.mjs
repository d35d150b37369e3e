// `npm run bench:quality`: runs `hunch benchmark` on the two research datasets in
// ../shared/datasets and writes the figures, beside the published ones, into BENCHMARKS.md.
// Prints one JSON object (both runs) as its last line; `--render FILE` rewrites BENCHMARKS.md
// from such a saved line without training again.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection } from './lib/benchmarks-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const cli = join(root, 'packages', 'trainer', 'dist', 'cli.js');

/** Published full-ranking figures on exactly these splits (../shared/datasets/README.md). */
const PUBLISHED = {
  diginetica: [
    ['SR-GNN (AAAI 2019)', { 'P@20': 0.5073, 'MRR@20': 0.1759 }],
    ['GCE-GNN (SIGIR 2020)', { 'P@20': 0.5422, 'MRR@20': 0.1904 }],
    ['SGNN-HN (CIKM 2020)', { 'P@20': 0.5567, 'MRR@20': 0.1945 }],
  ],
  'amazon-beauty': [
    ['SASRec (GenRec reproduction)', { 'HR@10': 0.0688, 'NDCG@10': 0.0375 }],
    ['TIGER (NeurIPS 2023)', { 'HR@10': 0.0648, 'NDCG@10': 0.0384 }],
    ['ICLRec (WWW 2022)', { 'HR@10': 0.0744, 'NDCG@10': 0.0403 }],
    ['ICSRec (WSDM 2024)', { 'HR@10': 0.0959, 'NDCG@10': 0.0578 }],
    ['BSARec (AAAI 2024)', { 'HR@10': 0.1008, 'NDCG@10': 0.0611 }],
  ],
};

/** A dataset that comes with its items' attributes (`*item2attributes.json` beside it) is run with them, as a shop with a catalog would train. */
function attributeArgs(name) {
  const folder = join(datasets, name);
  const file = existsSync(folder) ? readdirSync(folder).find((entry) => /item2attributes\.json$/.test(entry)) : undefined;
  return file ? ['--attributes', join(folder, file)] : [];
}

const RUNS = {
  diginetica: ['--format', 'sessions', '--train', join(datasets, 'diginetica', 'train_sessions.txt.gz'), '--test', join(datasets, 'diginetica', 'test_sessions.txt'), ...attributeArgs('diginetica')],
  'amazon-beauty': ['--format', 'sequences', '--data', join(datasets, 'amazon-beauty', 'Beauty.txt'), ...attributeArgs('amazon-beauty')],
};

/** Independent measurements of the simple baselines (../shared/datasets/README.md): a check on ours. */
const REFERENCE_BASELINES = {
  diginetica: [
    ['session-kNN (README reference)', { 'HR@10': 0.3771, 'P@20': 0.4971, 'MRR@20': 0.1738, 'NDCG@10': 0.2152 }],
    ['first-order Markov (README reference)', { 'HR@10': 0.2815, 'P@20': 0.3475, 'MRR@20': 0.1296, 'NDCG@10': 0.1618 }],
  ],
  'amazon-beauty': [
    ['first-order Markov, masked (README reference)', { 'HR@10': 0.0668, 'P@20': 0.0822, 'MRR@20': 0.038, 'NDCG@10': 0.0439 }],
    ['session-kNN, masked (README reference)', { 'HR@10': 0.0606, 'P@20': 0.0864, 'MRR@20': 0.0259, 'NDCG@10': 0.0326 }],
  ],
};

const COLUMNS = ['HR@10', 'NDCG@10', 'P@20', 'MRR@20'];
const cell = (value) => (typeof value === 'number' ? value.toFixed(4) : '—');
const row = (name, metrics, note = '') => `| ${name} | ${COLUMNS.map((c) => cell(metrics[c])).join(' | ')} | ${note} |`;

function runBenchmark(name, args) {
  const started = Date.now();
  const stdout = execFileSync(process.execPath, [cli, 'benchmark', ...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  const last = stdout.trim().split('\n').pop();
  return { ...JSON.parse(last), wall_seconds: Math.round((Date.now() - started) / 1000) };
}

/** How many test examples, and how many of them training could not fully see (all counted since 2026-12-07). */
const counted = (result) =>
  result.unknown_examples
    ? ` ${result.examples.toLocaleString('en')} test examples, every one counted: ${result.unknown_examples.targets} with a target unknown to training (misses), ${result.unknown_examples.prefixes} with no known item in the prefix (ranked by popularity).`
    : '';

/** What the run trained: its epochs within the budget, and STAN's distillation when it was on. */
const trained = (result) => {
  const budget = result.time_budget;
  const epochs = budget ? ` ${result.steps.toLocaleString('en')} steps (${budget.epochs.toFixed(2)} epochs${budget.limited ? ', as many as the budget allowed' : ''}).` : '';
  const distil = result.distil ? ` STAN distilled with weight ${result.distil.weight}, ${result.distil.k} items a position (its pass ${Math.round(result.distil.seconds)} s).` : '';
  return epochs + distil;
};

function table(name, result, command) {
  const lines = [
    `### ${name} — ${result.date ?? 'undated'}`,
    '',
    `\`${command}\` — ${result.params.toLocaleString('en')} parameters, trained in ${Math.round(result.train_seconds)} s at ${Math.round(result.tokens_per_second).toLocaleString('en')} tokens/s; whole run ${result.wall_seconds} s.${trained(result)}${counted(result)}`,
    '',
    `| model | ${COLUMNS.join(' | ')} | note |`,
    `| --- | ${COLUMNS.map(() => '---').join(' | ')} | --- |`,
    row('**Hunch GPT-2 (this run)**', result.model),
    ...Object.entries(result.baselines).map(([baseline, metrics]) => row(`${baseline} (this run)`, metrics, 'baseline')),
    ...REFERENCE_BASELINES[name].map(([baseline, metrics]) => row(baseline, metrics, 'independent implementation')),
    ...PUBLISHED[name].map(([paper, metrics]) => row(paper, metrics, 'published')),
  ];
  return lines.join('\n');
}

const [flag, value] = process.argv.slice(2);
const rendering = flag === '--render';
const only = rendering ? undefined : flag;
const results = rendering ? JSON.parse(readFileSync(value, 'utf8').trim().split('\n').pop()) : {};
const file = join(root, 'BENCHMARKS.md');
replaceSection(file, 'quality', 'Recommendation quality, full ranking over all items. Produced by `npm run bench:quality` (both datasets) or `node scripts/bench-quality.mjs DATASET` (one). Fractions, not percent.');
for (const [name, args] of Object.entries(RUNS)) {
  if (only && only !== name) continue;
  if (!rendering) {
    const inputs = args.filter((arg) => arg.startsWith('/'));
    if (!inputs.every((file) => existsSync(file))) throw new Error(`bench:quality: ${name} data not found under ${datasets} (set HUNCH_DATASETS)`);
    results[name] = { ...runBenchmark(name, args), date: new Date().toISOString().slice(0, 10) };
  }
  if (!results[name]) continue;
  const shown = args.map((arg) => (arg.startsWith(datasets) ? `../shared/datasets${arg.slice(datasets.length)}` : arg)).join(' ');
  // One section per dataset: a run of one dataset leaves the other's figures alone.
  replaceSection(file, `quality:${name}`, table(name, results[name], `npx hunch benchmark ${shown} --json`));
}
console.log(JSON.stringify(results));
