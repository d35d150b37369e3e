// `npm run bench:distil-pass`: the cost of distillation's teacher pass (STAN's soft targets for every
// training position, distillation.ts) on the Diginetica benchmark's training split, for each --k
// (default 50,100), one fresh process after the other: seconds, the shared table's bytes, the peak
// resident memory, and how much of the teacher's weight the best 10 / 25 / 50 items hold.
// One JSON object as the last line.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const { values } = parseArgs({ options: { k: { type: 'string', default: '50,100' } } });
const out = join(root, 'node_modules', '.cache', 'hunch-bench-distil-pass');
mkdirSync(out, { recursive: true });
const probe = join(out, 'probe.mjs');
buildSync({
  entryPoints: [join(root, 'scripts/lib/distil-pass-probe.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  alias: { '@hunch/core': join(root, 'packages/core/src/index.ts') },
  outfile: probe,
  logLevel: 'error',
});
const runs = [];
for (const k of values.k.split(',')) {
  const load = +loadavg()[0].toFixed(2);
  const line = execFileSync(process.execPath, [probe, '--data', join(datasets, 'diginetica'), '--k', k], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1);
  const run = { loadBefore: load, ...JSON.parse(line) };
  runs.push(run);
  console.log(`k ${run.k}: ${run.seconds} s, table ${(run.tableBytes / 1e6).toFixed(0)} MB, peak RSS ${run.maxRssMB} MB (${run.maxRssMBBeforePass} before the pass), weight in the best ${JSON.stringify(run.weightInBest)} (load ${load})`);
}
console.log(JSON.stringify({ benchmark: 'distil-pass', runs }));
