// `npm run bench:retrain`: one scheduled retraining of the demo shop's model, timed. A copy of
// models/demo is the live model; shoppers are simulated over the demo catalog with three new mugs;
// the built `hunch retrain` fine-tunes, scores
// candidate and live model on the same latest held-out sessions and publishes (or refuses).
// Options: --sessions 2000 --budget 2 (minutes, the whole run) --workers 2 --seed 5.
// Prints one JSON object as its last line: wall seconds, the decision and its figures.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { simulateEvents } from '../packages/trainer/dist/index.js';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '2000' }, budget: { type: 'string', default: '2' }, workers: { type: 'string', default: '2' }, seed: { type: 'string', default: '5' } } });
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hunch-bench-retrain-'));
try {
  const demo = JSON.parse(readFileSync(join(root, 'examples/storefront/catalog.json'), 'utf8'));
  const added = ['teapot', 'tumbler', 'flask'].map((kind, i) => ({ id: `mugs-new-${i + 1}`, title: `Speckled ${kind}`, url: `/#/product/mugs-new-${i + 1}`, price: 24 + i, category: 'mugs' }));
  const catalog = { ...demo, products: [...added, ...demo.products] };
  const catalogPath = join(dir, 'catalog.json');
  writeFileSync(catalogPath, JSON.stringify(catalog));
  const events = join(dir, 'events.ndjson');
  writeFileSync(events, [...simulateEvents(catalog.products, { sessions: Number(values.sessions), seed: Number(values.seed) })].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const live = join(dir, 'model');
  cpSync(join(root, 'models/demo'), live, { recursive: true });
  const args = ['retrain', '--events', events, '--model', live, '--catalog', catalogPath, '--time-budget', values.budget, '--workers', values.workers];
  const started = performance.now();
  const { stdout, code } = await new Promise((resolve) =>
    execFile(process.execPath, [join(root, 'packages/trainer/dist/cli.js'), ...args], { maxBuffer: 64 << 20 }, (error, out) => resolve({ stdout: out, code: error ? error.code : 0 })),
  );
  const seconds = (performance.now() - started) / 1000;
  const report = JSON.parse(stdout.trim().split('\n').at(-1));
  console.log(
    JSON.stringify({
      bench: 'retrain',
      sessions: Number(values.sessions),
      budgetMinutes: Number(values.budget),
      workers: Number(values.workers),
      seconds: Number(seconds.toFixed(1)),
      exitCode: code,
      loadavg: loadavg().map((x) => Number(x.toFixed(2))),
      decision: report.decision,
      reason: report.reason,
      metrics: report.metrics,
      counts: report.counts,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
