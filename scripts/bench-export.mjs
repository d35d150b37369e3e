// `npm run bench:export -- --checkpoint DIR`: exports a `hunch benchmark --out` checkpoint of
// Diginetica (43k items) as fp32 / int8 / q4 ONNX and measures, per file: bytes; full-ranking
// P@20 / MRR@20 on Diginetica's test prefixes (SR-GNN protocol, the same ranking code as
// `hunch benchmark`), with the repeat bonus added as the SDK adds it; and session load time,
// latency for a 50-event history ("forward": logits for every position; "recommend": the same
// forward with num_logits_to_keep = 1, the last position only, as the SDK's worker runs it) and
// one-event step latency (KV cache of 49) in
// onnxruntime-node (CPU) and in Chromium on onnxruntime-web's WASM and WebGPU backends.
// Prints one JSON object as its last line and writes BENCHMARKS.md's `export` section.
// Without --checkpoint it first trains one with the default recipe (about 25 minutes).
// `--examples N` scores only the first N test prefixes (quicker, paired across variants).
// `--quant LIST` exports these variants (default fp32,int8,q4; add pq for the product-quantized
// item table), `--backends LIST` measures these in Chromium (default wasm,webgpu; none: skip),
// `--section NAME` writes BENCHMARKS.md's section NAME (default export). The quality table gives
// each file's MRR@20 loss against fp32 and against int8, where those were exported.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { measureInChromium } from './lib/ort-web-latency.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const cli = join(root, 'packages', 'trainer', 'dist', 'cli.js');
const { evaluateRecommender, loadBenchmarkData } = await import(join(root, 'packages', 'trainer', 'dist', 'index.js'));

const { values: flags } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    examples: { type: 'string' },
    quant: { type: 'string', default: 'fp32,int8,q4' },
    backends: { type: 'string', default: 'wasm,webgpu' },
    section: { type: 'string', default: 'export' },
    'pq-subspaces': { type: 'string' },
  },
});
const backends = flags.backends.split(',').map((b) => b.trim()).filter((b) => b && b !== 'none');
const train = join(datasets, 'diginetica', 'train_sessions.txt.gz');
const test = join(datasets, 'diginetica', 'test_sessions.txt');
const work = mkdtempSync(join(tmpdir(), 'hunch-bench-export-'));
const hunch = (...args) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });

try {
  const checkpoint = flags.checkpoint ?? join(work, 'checkpoint');
  if (!flags.checkpoint) hunch('benchmark', '--format', 'sessions', '--train', train, '--test', test, '--json', '--out', checkpoint);
  // Research items have no product catalog: an empty one (the export writes an empty catalog.json).
  const catalog = join(work, 'catalog.json');
  writeFileSync(catalog, JSON.stringify({ products: [] }));
  const modelDir = join(work, 'model');
  hunch('export', '--model', checkpoint, '--catalog', catalog, '--out', modelDir, '--quant', flags.quant, ...(flags['pq-subspaces'] ? ['--pq-subspaces', flags['pq-subspaces']] : []));
  const manifest = JSON.parse(readFileSync(join(modelDir, 'hunch.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));

  const data = await loadBenchmarkData({ format: 'sessions', train, test });
  const limit = flags.examples ? Number(flags.examples) : data.test.prefixes.length;
  const examples = { prefixes: data.test.prefixes.slice(0, limit), targets: data.test.targets.slice(0, limit) };
  const numItems = data.items.size;
  const ITEM_OFFSET = 3; // [PAD], [BOS], [UNK], then the items in ItemIndex order (benchmark-evaluation.ts)
  const P = config.n_positions;
  const heads = config.n_head;
  const headDim = config.n_embd / heads;

  /**
   * One forward over right-padded rows; `past` (batch 1 only) continues a cache of `pastLength`;
   * logits for the last `keep` positions of each row (0: all; a graph without num_logits_to_keep gives all).
   */
  const run = (session, rows, past, pastLength = 0, keep = 0) => {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(B * T);
    const mask = new BigInt64Array(B * (pastLength + T));
    rows.forEach((r, b) => {
      r.forEach((token, t) => (ids[b * T + t] = BigInt(token)));
      mask.fill(1n, b * (pastLength + T), b * (pastLength + T) + pastLength + r.length);
    });
    const feeds = { input_ids: new ort.Tensor('int64', ids, [B, T]), attention_mask: new ort.Tensor('int64', mask, [B, pastLength + T]) };
    for (let i = 0; i < config.n_layer; i++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${i}.${kind}`] = past?.[`present.${i}.${kind}`] ?? new ort.Tensor('float32', new Float32Array(0), [B, heads, 0, headDim]);
      }
    }
    if (session.inputNames.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
    return session.run(feeds).then((out) => ({ out, T }));
  };
  const timed = async (fn) => {
    for (let i = 0; i < 3; i++) await fn();
    const times = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b);
  };
  const percentile = (sorted, q) => +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(2);
  // A 50-event history: [BOS] and the first 49 test clicks (within the model's positions).
  const history = [1, ...examples.prefixes.flatMap((p) => Array.from(p)).map((i) => i + ITEM_OFFSET)].slice(0, Math.min(50, P));

  // Timings first, all together, so that a quiet machine is needed only for the first minutes.
  const results = {};
  for (const [variant, file] of Object.entries(manifest.onnx.variants)) {
    const path = join(modelDir, file);
    const loadStarted = performance.now();
    const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
    const loadMs = performance.now() - loadStarted;
    // A forward over the whole history (every position's logits, then the last one's only),
    // and one new event on top of the cache of the rest.
    const forward = await timed(() => run(session, [history]));
    const recommend = await timed(() => run(session, [history], undefined, 0, 1));
    const { out: past } = await run(session, [history.slice(0, -1)]);
    const step = await timed(() => run(session, [history.slice(-1)], past, history.length - 1));
    await session.release();
    results[variant] = {
      file,
      bytes: statSync(path).size,
      load_ms: Math.round(loadMs),
      forward_ms_p50: percentile(forward, 0.5),
      forward_ms_p95: percentile(forward, 0.95),
      recommend_ms_p50: percentile(recommend, 0.5),
      recommend_ms_p95: percentile(recommend, 0.95),
      step_ms_p50: percentile(step, 0.5),
      step_ms_p95: percentile(step, 0.95),
    };
    console.error(`${variant}: ${JSON.stringify(results[variant])}`);
  }
  // The same files in Chromium, on the runtime the SDK's worker uses.
  const chromium = backends.length
    ? await measureInChromium({ modelDir, files: Object.values(results).map((r) => r.file), tokens: history, cache: manifest.onnx.cache, backends })
    : { environment: { chromium: 'not run', runtime: '' }, results: {} };
  console.error(`chromium: ${JSON.stringify(chromium)}`);
  console.error('timings done; quality next');

  for (const [variant, file] of Object.entries(manifest.onnx.variants)) {
    const session = await ort.InferenceSession.create(join(modelDir, file), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
    // Next-item scores at each prefix's last position, plus the repeat bonus on its items.
    const recommender = {
      name: variant,
      async score(prefixes) {
        const rows = prefixes.map((p) => [1, ...Array.from(p, (i) => i + ITEM_OFFSET)].slice(-P));
        const { out, T } = await run(session, rows);
        const V = out.logits.dims[2];
        const logits = out.logits.data;
        const repeat = out.hunch_repeat?.data;
        return rows.map((r, b) => {
          const at = (b * T + r.length - 1) * V;
          const scores = Float32Array.from(logits.subarray(at + ITEM_OFFSET, at + ITEM_OFFSET + numItems));
          if (repeat) for (const item of new Set(prefixes[b])) scores[item] = Math.fround(scores[item] + repeat[b * T + r.length - 1]);
          return scores;
        });
      },
    };
    const evaluated = await evaluateRecommender(recommender, examples, { popularity: data.popularity, rawIds: data.items.rawIds, mask: data.mask, batchSize: 16 });
    await session.release();
    Object.assign(results[variant], {
      'P@20': evaluated.metrics['P@20'],
      'MRR@20': evaluated.metrics['MRR@20'],
      examples: evaluated.examples,
      eval_seconds: Math.round(evaluated.seconds),
    });
    console.error(`${variant}: ${JSON.stringify(results[variant])}`);
  }
  const { fp32, int8 } = results;
  for (const r of Object.values(results)) {
    r.mrr_loss_vs_fp32 = fp32 ? +(1 - r['MRR@20'] / fp32['MRR@20']).toFixed(4) : null;
    r.mrr_loss_vs_int8 = int8 ? +(1 - r['MRR@20'] / int8['MRR@20']).toFixed(4) : null;
  }

  const fmt = (x) => x.toFixed(4);
  const extra = [['quant', 'fp32,int8,q4'], ['backends', 'wasm,webgpu'], ['section', 'export'], ['pq-subspaces', undefined]].filter(([name, value]) => flags[name] !== value).map(([name]) => ` --${name} ${flags[name]}`).join('');
  const command = `npm run bench:export --${flags.checkpoint ? ' --checkpoint CHECKPOINT' : ''}${flags.examples ? ` --examples ${flags.examples}` : ''}${extra}`;
  const loss = (x) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
  const latencyRow = (file, runtime, r) =>
    r.error
      ? `| \`${file}\` | ${runtime} | failed: ${r.error.replace(/\|/g, '/')} | | | |`
      : `| \`${file}\` | ${runtime} | ${r.cold_load_ms === undefined ? '' : `${r.cold_load_ms.toLocaleString('en')} / `}${r.load_ms.toLocaleString('en')} | ${r.forward_ms_p50} / ${r.forward_ms_p95} | ${r.recommend_ms_p50} / ${r.recommend_ms_p95} | ${r.step_ms_p50} / ${r.step_ms_p95} |`;
  const lines = [
    `## Export: ONNX variants of the Diginetica model — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`${command}\` — ${numItems.toLocaleString('en')} items, n_embd ${config.n_embd}, ${config.n_layer} layers; ` +
      `${(results.fp32?.examples ?? limit).toLocaleString('en')} test prefixes (SR-GNN protocol, full ranking, repeat bonus added as the SDK adds it).`,
    '',
    '| file | bytes | P@20 | MRR@20 | MRR@20 loss vs fp32 | vs int8 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.values(results).map(
      (r) => `| \`${r.file}\` | ${r.bytes.toLocaleString('en')} | ${fmt(r['P@20'])} | ${fmt(r['MRR@20'])} | ${loss(r.mrr_loss_vs_fp32)} | ${loss(r.mrr_loss_vs_int8)} |`,
    ),
    '',
    'Targets (issue 4): int8 ≤ 5 MB and ≤ 1% relative MRR@20 loss, q4 ≤ 3%; pq (issue 23) ≤ 1% against int8.',
    '',
    `Latency for a ${history.length}-event history: "forward" runs the whole history (empty cache) with logits for every position, ` +
      `"recommend" the same with \`num_logits_to_keep\` = 1 (logits of the last position only: what the SDK's worker runs), "step" adds one event to a cache of the other ${history.length - 1}; ` +
      `p50 / p95 of 30 runs after 3 warm-ups, 1 thread, graph optimization "all". onnxruntime-node ${ort.env.versions?.common ?? ''} (CPU, load from disk); ` +
      `Chromium ${chromium.environment.chromium} with onnxruntime-web ${chromium.environment.runtime} (the SDK's runtime; files from the HTTP cache; load = the page's first session, runtime start included / a second session of the same file), ` +
      `WebGPU on the ${chromium.environment.webgpu_adapter ?? 'no'} adapter.`,
    '',
    '| file | runtime | load ms (Chromium: first / second session) | forward ms p50 / p95 | recommend ms p50 / p95 | step ms p50 / p95 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.values(results).flatMap((r) => [
      latencyRow(r.file, 'onnxruntime-node', r),
      ...Object.entries(chromium.results).map(([backend, byFile]) => latencyRow(r.file, `Chromium ${backend === 'wasm' ? 'WASM' : 'WebGPU'}`, byFile[r.file])),
    ]),
  ];
  replaceSection(join(root, 'BENCHMARKS.md'), flags.section, lines.join('\n'));
  console.log(JSON.stringify({ checkpoint, items: numItems, results, chromium }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
