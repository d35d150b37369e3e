// One run of STAN's soft-target pass for scripts/bench-distil-pass.mjs (bundled with esbuild): the
// benchmark's Diginetica training split, as `hunch benchmark` distils it (distillation.ts), with
// `--k` items a position. Prints one JSON line: the pass's seconds, the table's bytes, the
// process's peak resident memory, and the share of the teacher's weight in each position's best
// 10 / 25 / 50 items (of the k kept), over the positions given targets.
import { parseArgs } from 'node:util';
import { trainingSplit } from '../../packages/trainer/src/benchmark.js';
import { ITEM_OFFSET } from '../../packages/trainer/src/benchmark-evaluation.js';
import { distilTargets } from '../../packages/trainer/src/distillation.js';
import { loadBenchmarkData } from '../../packages/trainer/src/eval/benchmark-data.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, k: { type: 'string', default: '50' } } });
const data = await loadBenchmarkData({ format: 'sessions', train: `${values.data}/train_sessions.txt.gz`, test: `${values.data}/test_sessions.txt` });
const { fit } = trainingSplit(data);
const isItem = Uint8Array.from({ length: data.items.size + ITEM_OFFSET }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));
const rssBefore = process.resourceUsage().maxRSS;
const made = distilTargets(fit, isItem, { weight: 0.25, k: Number(values.k) }, {}, (line) => console.error(line))!;
const { k, ids, weights } = made.distil.targets;
const within = [10, 25, 50].filter((n) => n < k);
const mass = within.map(() => 0);
for (let p = 0; p < ids.length / k; p++) {
  if (!(weights[p * k]! > 0)) continue;
  let sum = 0;
  for (let j = 0; j < k; j++) {
    sum += weights[p * k + j]!;
    const at = within.indexOf(j + 1);
    if (at >= 0) mass[at]! += sum;
  }
}
console.log(
  JSON.stringify({
    k,
    positions: made.report.positions,
    covered: made.report.covered,
    seconds: +made.report.seconds.toFixed(1),
    tableBytes: ids.byteLength + weights.byteLength,
    maxRssMBBeforePass: Math.round(rssBefore / 1024),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    weightInBest: Object.fromEntries(within.map((n, i) => [n, +(mass[i]! / made.report.covered).toFixed(4)])),
  }),
);
