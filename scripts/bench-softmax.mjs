// `npm run bench:softmax [-- --items 43097,1000000] [--runs 30]`: the worker's softmax over the
// items of one step, in Node (V8, as Chromium's worker runs it), with the worker's own code
// (packages/browser/src/worker/softmax/, bundled here by esbuild): the WASM SIMD pass
// (ItemSoftmax: log-sum-exp and the best 20 together) against the JS softmax it replaced (a
// Math.exp per item, then the one-pass top: referenceItemScores). Random logits (seeded, uniform
// in [-8, 8]) on item tokens after 1,211 other tokens (a million-item hunch.json keeps 1,211);
// p50 / p95 of --runs calls after as many warm-ups (V8 compiles the kernel's optimised code
// in the background: the first calls run its baseline code). Both must agree: the same top 20,
// log-sum-exp within 1e-5.
// Prints one JSON object as its last line and writes BENCHMARKS.md's `softmax` section.
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { uniforms } from './lib/random.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({ options: { items: { type: 'string', default: '43097,1000000' }, runs: { type: 'string', default: '30' } } });
const sizes = flags.items.split(',').map(Number);
const runs = Number(flags.runs);
if (!sizes.every((n) => Number.isInteger(n) && n > 0) || !(Number.isInteger(runs) && runs > 0)) throw new Error('--items takes positive integers, --runs a positive integer');
const OTHERS = 1211;
const K = 20;

const work = mkdtempSync(join(tmpdir(), 'hunch-softmax-'));
const bundle = join(work, 'softmax.mjs');
buildSync({
  stdin: {
    contents: "export { ItemSoftmax } from './packages/browser/src/worker/softmax/item-softmax.ts';\nexport { referenceItemScores } from './packages/browser/src/worker/softmax/item-scores.ts';",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  alias: { '@hunch/core': join(root, 'packages/core/src/index.ts') },
  outfile: bundle,
  logLevel: 'error',
});
const { ItemSoftmax, referenceItemScores } = await import(pathToFileURL(bundle).href);
rmSync(work, { recursive: true, force: true });

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
const summary = (values) => ({ p50: Number(percentile(values, 50).toFixed(2)), p95: Number(percentile(values, 95).toFixed(2)) });
function time(fn) {
  for (let i = 0; i < runs; i++) fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    ms.push(performance.now() - started);
  }
  return summary(ms);
}

const loadStart = loadavg()[0];
const results = [];
for (const items of sizes) {
  const random = uniforms(items);
  const itemTokenIds = Int32Array.from({ length: items }, (_, i) => OTHERS + i);
  const logits = Float32Array.from({ length: OTHERS + items }, () => random() * 16 - 8);
  const softmax = ItemSoftmax.create(itemTokenIds);
  if (!softmax) throw new Error('no WebAssembly SIMD in this Node');
  const into = new Float32Array(items);
  const js = () => referenceItemScores(logits, itemTokenIds, into);
  const wasm = () => softmax.scores(logits, K);
  const [a, b] = [js(), wasm()];
  const same = [...a.top(K)].join() === [...b.top(K)].join() && Math.abs(a.logSumExp - b.logSumExp) <= 1e-5 * Math.abs(a.logSumExp);
  if (!same) throw new Error(`${items} items: the WASM pass and the JS softmax disagree`);
  const jsMs = time(() => js().top(K));
  const wasmMs = time(() => wasm().top(K));
  results.push({ items, js_ms: jsMs, wasm_ms: wasmMs, ratio_p50: Number((jsMs.p50 / wasmMs.p50).toFixed(1)) });
  console.error(`${items} items: JS ${JSON.stringify(jsMs)} WASM ${JSON.stringify(wasmMs)}`);
}
const loadEnd = loadavg()[0];

const rows = results.map((r) => `| ${r.items.toLocaleString('en')} | ${r.js_ms.p50} / ${r.js_ms.p95} | ${r.wasm_ms.p50} / ${r.wasm_ms.p95} | ${r.ratio_p50}x |`);
replaceSection(
  join(root, 'BENCHMARKS.md'),
  'softmax',
  `## The items' softmax of one step, JS against the WASM pass — ${new Date().toISOString().slice(0, 10)}

\`npm run bench:softmax${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` — Node ${process.version}, the worker's own code (packages/browser/src/worker/softmax/): the JS softmax (a \`Math.exp\` per item, then the one-pass top 20; what the worker ran before, and runs without WebAssembly SIMD) against the WASM SIMD pass (log-sum-exp and the best 20 together, ItemSoftmax). Random logits, uniform in [-8, 8], on item tokens after ${OTHERS.toLocaleString('en')} other tokens; p50 / p95 of ${runs} calls after ${runs} warm-ups; both gave the same top 20 and log-sum-exp.

| items | JS softmax + top 20, ms p50 / p95 | WASM pass, ms p50 / p95 | p50 ratio |
| --- | --- | --- | --- |
${rows.join('\n')}

Machine load (1-minute load average, 2 cores): ${loadStart.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end.`,
);
console.log(JSON.stringify({ runs, others: OTHERS, k: K, results, load_average: [loadStart, loadEnd] }));
