// Builds the storefront's demo model into models/demo/: simulate shoppers, train a tiny
// GPT-2 (full softmax over its small vocabulary, early stopping on the latest sessions), export it. Run by `npm run model:demo` (which builds the CLI first).
// Reproducible: fixed seeds, and createdAt pinned through SOURCE_DATE_EPOCH.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'packages/trainer/dist/cli.js');
const catalog = join(root, 'examples/storefront/catalog.json');
const out = join(root, 'models/demo');
const SEED = '7';

const work = mkdtempSync(join(tmpdir(), 'hunch-demo-'));
const hunch = (...args) =>
  execFileSync(process.execPath, [cli, ...args], {
    stdio: 'inherit',
    env: { ...process.env, SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH ?? '1704067200' },
  });

try {
  const started = Date.now();
  const events = join(work, 'events.ndjson');
  const checkpoint = join(work, 'checkpoint');
  hunch('simulate', '--catalog', catalog, '--sessions', '3000', '--seed', SEED, '--out', events);
  // One worker: the same bytes on any machine, and this small run gains little from two.
  hunch('train', '--events', events, '--out', checkpoint,
    '--layers', '2', '--embd', '32', '--heads', '2', '--context', '32',
    '--epochs', '10', '--batch-tokens', '1024', '--lr', '3e-3', '--dropout', '0.1', '--seed', SEED, '--workers', '1');
  hunch('export', '--model', checkpoint, '--catalog', catalog, '--out', out);

  // Sanity check: after three mugs, the next viewed item should mostly be a mug.
  const { readCheckpoint, rankNextItems } = await import(join(root, 'packages/trainer/dist/index.js'));
  const { Vocabulary } = await import(join(root, 'packages/core/dist/index.js'));
  const model = await readCheckpoint(checkpoint);
  const history = [
    { name: 'page_view', params: { page_path: '/' } },
    ...['mugs-01', 'mugs-04', 'mugs-08'].map((item_id) => ({ name: 'view_item', params: { item_id, item_category: 'mugs' } })),
  ];
  const vocabulary = new Vocabulary(model.state.vocabulary);
  const top = await rankNextItems(model.config, model.weights, vocabulary, history, 6);
  const manifest = JSON.parse(readFileSync(join(out, 'hunch.json'), 'utf8'));
  const bytes = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0) + statSync(join(out, 'hunch.json')).size;
  console.error(`after viewing 3 mugs, top 6 next items: ${top.map((t) => t.itemId).join(', ')}`);
  console.error(`models/demo: version ${manifest.version}, ${bytes} bytes, final loss ${manifest.training.finalLoss.toFixed(4)}, ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
