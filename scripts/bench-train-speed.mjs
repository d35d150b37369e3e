// `npm run bench:train-speed`: training throughput of the Diginetica benchmark recipe (2 layers,
// n_embd 64, 2,048 sampled negatives, 2 data-parallel workers), this checkout against a git ref,
// in alternating runs so that both see the same machine load (the ratio is the figure; on a shared
// machine the absolute tokens/s move with the load). Each run is a fresh process that trains
// --steps steps (the first --skip not timed) and prints one line (scripts/lib/train-speed-probe.ts):
// tokens/s, ms and process CPU ms per step, the last loss, and with --validate SHARE the
// validation MRR@20 / HR@20 on that share of the benchmark's validation split after the last step.
// Options: --against REF (default HEAD; '' for this checkout alone) --rounds 2 --steps 60 --skip 10
// --workers 2 --validate 0 --seed 1, --dataset amazon-beauty (Beauty.txt under the small-data
// recipe, as `hunch benchmark` picks it) for another dataset than diginetica, --embd N --heads N --layers N for another model size than
// the recipe's, --batch-tokens N for another batch and --negatives N for other sampled negatives
// (0: the full softmax); these are the same for every variant. --distil α [--distil-k K] adds a variant: this checkout
// distilling STAN's soft targets with weight α (their pass runs before the timed steps), its ratio taken against this
// checkout without. One JSON object as the last line.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const { values } = parseArgs({
  options: {
    against: { type: 'string', default: 'HEAD' },
    rounds: { type: 'string', default: '2' },
    steps: { type: 'string', default: '60' },
    skip: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    validate: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    dataset: { type: 'string', default: 'diginetica' },
    embd: { type: 'string' },
    heads: { type: 'string' },
    layers: { type: 'string' },
    'batch-tokens': { type: 'string' },
    negatives: { type: 'string' },
    distil: { type: 'string' },
    'distil-k': { type: 'string' },
  },
});

// Bundles live under the repository's node_modules so that their external imports (tfjs) resolve.
const out = join(root, 'node_modules', '.cache', 'hunch-bench-train-speed');
mkdirSync(out, { recursive: true });

/** The probe and the training worker bundled from the source tree at `tree`. */
function bundle(name, tree) {
  const build = (entry, file) =>
    buildSync({
      entryPoints: [join(tree, entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      alias: { '@hunch/core': join(tree, 'packages/core/src/index.ts') },
      outfile: join(out, file),
      logLevel: 'error',
    });
  build('scripts/lib/train-speed-probe.ts', `${name}-probe.mjs`);
  build('packages/trainer/src/train-worker.ts', `${name}-worker.mjs`);
  return { name, probe: join(out, `${name}-probe.mjs`), worker: join(out, `${name}-worker.mjs`) };
}

// Diginetica's sessions, or a leave-one-out file (the dataset's directory and file as in ../shared/datasets).
const LEAVE_ONE_OUT = { 'amazon-beauty': 'Beauty.txt' };
if (values.dataset !== 'diginetica' && !LEAVE_ONE_OUT[values.dataset]) {
  console.error(`--dataset must be diginetica or ${Object.keys(LEAVE_ONE_OUT).join(', ')}, got ${values.dataset}`);
  process.exit(2);
}
const dataArgs = LEAVE_ONE_OUT[values.dataset] ? ['--sequences', join(datasets, values.dataset, LEAVE_ONE_OUT[values.dataset])] : ['--data', join(datasets, values.dataset)];

const variants = [];
let refTree;
if (values.against) {
  const commit = execFileSync('git', ['rev-parse', '--short', values.against], { cwd: root, encoding: 'utf8' }).trim();
  refTree = mkdtempSync(join(tmpdir(), 'hunch-train-speed-'));
  execFileSync('sh', ['-c', `git archive ${commit} packages/trainer/src packages/core/src | tar -x -C ${refTree}`], { cwd: root });
  // The probe is this checkout's, run on the ref's trainer.
  mkdirSync(join(refTree, 'scripts/lib'), { recursive: true });
  cpSync(join(root, 'scripts/lib/train-speed-probe.ts'), join(refTree, 'scripts/lib/train-speed-probe.ts'));
  variants.push({ ...bundle(`ref-${commit}`, refTree), label: commit });
}
const current = bundle('current', root);
variants.push({ ...current, label: 'this checkout' });
if (values.distil) variants.push({ ...current, label: `distil ${values.distil}`, extra: ['--distil', values.distil, ...(values['distil-k'] ? ['--distil-k', values['distil-k']] : [])] });

// The options passed on to every probe run as they are.
const PROBE_OPTIONS = ['steps', 'skip', 'workers', 'validate', 'seed', 'embd', 'heads', 'layers', 'batch-tokens', 'negatives'];
const runs = [];
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const v of variants) {
      const load = loadavg()[0];
      const args = [v.probe, ...dataArgs, '--worker', v.worker, ...PROBE_OPTIONS.filter((k) => values[k] !== undefined).flatMap((k) => [`--${k}`, values[k]]), ...(v.extra ?? [])];
      const line = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1);
      const run = { variant: v.label, round: round + 1, loadBefore: +load.toFixed(2), ...JSON.parse(line) };
      runs.push(run);
      console.log(`${v.label.padEnd(14)} round ${round + 1}: ${run.tokensPerSecond} tokens/s, ${run.msPerStep} ms/step, ${run.cpuMsPerStep} CPU ms/step, loss ${run.loss}` + (run.valMrr20 !== undefined ? `, val MRR@20 ${run.valMrr20} HR@20 ${run.valHit20}` : '') + ` (load ${run.loadBefore})`);
    }
  }
} finally {
  if (refTree) rmSync(refTree, { recursive: true, force: true });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = Object.fromEntries(
  variants.map((v) => {
    const mine = runs.filter((r) => r.variant === v.label);
    return [v.label, { tokensPerSecond: median(mine.map((r) => r.tokensPerSecond)), cpuMsPerStep: median(mine.map((r) => r.cpuMsPerStep)) }];
  }),
);
const against = variants.find((v) => v.label !== 'this checkout' && !v.extra);
const distilled = variants.find((v) => v.extra);
const ratioOf = (a, b) => ({ tokensPerSecond: +(summary[a].tokensPerSecond / summary[b].tokensPerSecond).toFixed(3), cpuPerStep: +(summary[a].cpuMsPerStep / summary[b].cpuMsPerStep).toFixed(3) });
const ratio = against ? ratioOf('this checkout', against.label) : undefined;
const distilRatio = distilled ? ratioOf(distilled.label, 'this checkout') : undefined;
if (ratio) console.log(`this checkout / ${against.label}: ${ratio.tokensPerSecond}x the tokens/s, ${ratio.cpuPerStep}x the CPU per step (medians)`);
if (distilRatio) console.log(`${distilled.label} / this checkout: ${distilRatio.tokensPerSecond}x the tokens/s, ${distilRatio.cpuPerStep}x the CPU per step (medians)`);
console.log(JSON.stringify({ benchmark: 'train-speed', options: values, cores: (await import('node:os')).cpus().length, runs, medians: summary, ...(ratio ? { ratio } : {}), ...(distilRatio ? { distilRatio } : {}) }));
