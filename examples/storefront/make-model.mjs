// Builds the storefront's demo model into models/demo/: simulate shoppers over the demo catalog
// (`hunch simulate`), train a small GPT-2 on their sessions (`hunch train`: full softmax over its
// small vocabulary, early stopping on the latest sessions), export it (`hunch export`), check it,
// and only then put it in place. Run by `npm run model:demo` (which builds the CLI first).
// Reproducible: fixed seeds, one training worker, and createdAt pinned through SOURCE_DATE_EPOCH.
//
// The model is built in a sibling directory and swapped in at the very end, once it passes the
// checks below: a failed or killed run leaves the shipped model as it was (browser tests read it).
// Checks, each failing the script: after three products of any one category, most (≥ 4) of the
// top 6 next items are of that category, both for bare product views and for a history as the
// demo shop records it (list impressions between the views); the files the browser loads for the
// int8 model weigh at most 3 MB.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'packages/trainer/dist/cli.js');
const catalogPath = join(root, 'examples/storefront/catalog.json');
const out = join(root, 'models/demo');
const SEED = '7';
const SESSIONS = '4000';
/** What the SDK fetches to run the int8 model on WASM (the default there). */
const INT8_FILES = ['hunch.json', 'catalog.json', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx'];
const MAX_INT8_BYTES = 3 * 1024 * 1024;
const MIN_SAME_CATEGORY = 4;

const work = mkdtempSync(join(tmpdir(), 'hunch-demo-'));
// Next to models/demo (same file system), so that swapping it in is a rename.
const staged = join(root, 'models', `.demo-build-${process.pid}`);
const retired = join(root, 'models', `.demo-old-${process.pid}`);
const hunch = (...args) =>
  execFileSync(process.execPath, [cli, ...args], {
    stdio: 'inherit',
    env: { ...process.env, SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH ?? '1704067200' },
  });

const filesUnder = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());

try {
  const started = Date.now();
  const events = join(work, 'events.ndjson');
  const checkpoint = join(work, 'checkpoint');
  hunch('simulate', '--catalog', catalogPath, '--sessions', SESSIONS, '--seed', SEED, '--out', events);
  const simulated = Date.now();
  // One worker: the same bytes on any machine, and this small run gains little from two.
  // Context 64: a visit as the shop records it (clicks, list impressions) rarely needs more.
  hunch('train', '--events', events, '--out', checkpoint,
    '--layers', '2', '--embd', '32', '--heads', '2', '--context', '64',
    '--epochs', '10', '--batch-tokens', '1024', '--lr', '3e-3', '--dropout', '0.1', '--seed', SEED, '--workers', '1');
  const trained = Date.now();
  hunch('export', '--model', checkpoint, '--catalog', catalogPath, '--out', staged);

  // Sanity check: after three products of a category, the next items are mostly of that category.
  const { readCheckpoint, rankNextItems } = await import(join(root, 'packages/trainer/dist/index.js'));
  const { Vocabulary } = await import(join(root, 'packages/core/dist/index.js'));
  const model = await readCheckpoint(checkpoint);
  const vocabulary = new Vocabulary(model.metadata.vocabulary, model.metadata.merges ?? []);
  const { products } = JSON.parse(readFileSync(catalogPath, 'utf8'));
  const categoryOf = new Map(products.map((product) => [product.id, product.category]));
  const failures = [];
  const results = [];
  for (const category of [...new Set(products.map((product) => product.category))]) {
    const ids = products.filter((product) => product.category === category).map((product) => product.id);
    for (const shopLike of [false, true]) {
      const list = (item_list_id) => (shopLike ? [{ name: 'view_item_list', params: { item_list_id } }] : []);
      const history = [
        { name: 'page_view', params: { page_path: '/' } },
        ...list('home'),
        ...[ids[0], ids[3], ids[7]].flatMap((item_id) => [{ name: 'view_item', params: { item_id, item_category: category } }, ...list('product')]),
      ];
      const top = await rankNextItems(model.config, model.weights, vocabulary, history, 6);
      const same = top.filter((t) => categoryOf.get(t.itemId) === category).length;
      results.push(same);
      if (same < MIN_SAME_CATEGORY) failures.push(`${category}${shopLike ? ' (shop-like history)' : ''}: ${same}/6 (${top.map((t) => t.itemId).join(', ')})`);
    }
  }
  const mugs = await rankNextItems(model.config, model.weights, vocabulary, [
    { name: 'page_view', params: { page_path: '/' } },
    ...['mugs-01', 'mugs-04', 'mugs-08'].map((item_id) => ({ name: 'view_item', params: { item_id, item_category: 'mugs' } })),
  ], 6);
  console.error(`after viewing 3 mugs, top 6 next items: ${mugs.map((t) => t.itemId).join(', ')}`);
  console.error(`sanity: after 3 products of one category, items of that category in the top 6: min ${Math.min(...results)}, mean ${(results.reduce((a, b) => a + b, 0) / results.length).toFixed(2)} over ${results.length} histories`);
  if (failures.length > 0) throw new Error(`sanity check failed: fewer than ${MIN_SAME_CATEGORY} of the top 6 in the viewed category for\n  ${failures.join('\n  ')}`);

  const manifest = JSON.parse(readFileSync(join(staged, 'hunch.json'), 'utf8'));
  const exported = JSON.parse(readFileSync(join(staged, 'catalog.json'), 'utf8'));
  const int8Bytes = INT8_FILES.reduce((sum, file) => sum + statSync(join(staged, file)).size, 0);
  const allBytes = filesUnder(staged).reduce((sum, file) => sum + statSync(file).size, 0);
  const sizes = filesUnder(staged).map((file) => `${relative(staged, file)} ${statSync(file).size}`).sort();
  console.error(`files: ${sizes.join(', ')}`);
  console.error(`int8 model as the browser loads it (${INT8_FILES.join(' + ')}): ${int8Bytes} bytes; whole folder: ${allBytes} bytes`);
  if (int8Bytes > MAX_INT8_BYTES) throw new Error(`the int8 model is ${int8Bytes} bytes, over the ${MAX_INT8_BYTES} byte budget`);

  // Swap it in: the old model out of the way, the new one in its place, the old one removed.
  if (existsSync(out)) renameSync(out, retired);
  renameSync(staged, out);
  rmSync(retired, { recursive: true, force: true });
  const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
  console.error(
    `models/demo: version ${manifest.version}, ${exported.products.length} products, vocabulary ${manifest.vocabulary.length}, final loss ${manifest.training.finalLoss.toFixed(4)}; ` +
      `simulate ${seconds(simulated - started)}, train ${seconds(trained - simulated)}, ${seconds(Date.now() - started)} in all`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(staged, { recursive: true, force: true });
}
