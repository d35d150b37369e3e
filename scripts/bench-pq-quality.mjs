// `npm run bench:pq-quality -- --checkpoint DIR [--examples N] [--variants JSON]`: the pq item
// table's quality levers on Diginetica, each against the int8 file of the same checkpoint. For
// each variant (a JSON list of the trainer's PqOptions; default: the export's default, and it
// with 16 and 8 sub-spaces) the checkpoint's table is quantized and the pq graph built as
// `hunch export --quant pq` would, then every test prefix (SR-GNN protocol, full ranking, repeat
// bonus added as the SDK adds it: the ranking code of bench:export) is ranked by the int8 and
// the pq file in onnxruntime-node. MRR@20's loss is paired per example: its standard error is
// that of the per-example differences. Writes BENCHMARKS.md's `pq-quality` section; JSON last.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { replaceSection } from './lib/benchmarks-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const trainer = await import(join(root, 'packages', 'trainer', 'dist', 'index.js'));
const { readCheckpoint, exportedTable, buildOnnxModel, quantizePq, dequantizePq, pqSubspaces, loadBenchmarkData, evaluateRecommender } = trainer;

const { values: flags } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    examples: { type: 'string' },
    variants: { type: 'string', default: '[{}, {"subspaces": 16}, {"subspaces": 8}]' },
    section: { type: 'string', default: 'pq-quality' },
  },
});
if (!flags.checkpoint) throw new Error('--checkpoint DIR: a Diginetica checkpoint (hunch benchmark --out, or the PyTorch trainer)');
const variants = JSON.parse(flags.variants);
const { config, weights } = await readCheckpoint(flags.checkpoint);
const table = exportedTable(config, weights);
const [V, D, P] = [config.vocabSize, config.nEmbd, config.nPositions];
const data = await loadBenchmarkData({ format: 'sessions', train: join(datasets, 'diginetica', 'train_sessions.txt.gz'), test: join(datasets, 'diginetica', 'test_sessions.txt') });
const limit = Math.min(flags.examples ? Number(flags.examples) : Infinity, data.test.prefixes.length);
const ITEM_OFFSET = 3; // [PAD], [BOS], [UNK], then the items in ItemIndex order (benchmark-evaluation.ts)
const numItems = data.items.size;
const rowOf = (prefix) => [1, ...Array.from(prefix, (i) => i + ITEM_OFFSET)].slice(-P);
// Prefixes of one length in one batch, so the graph keeps the last position's logits only.
const order = Array.from({ length: limit }, (_, i) => i).sort((a, b) => rowOf(data.test.prefixes[a]).length - rowOf(data.test.prefixes[b]).length || a - b);
const examples = { prefixes: order.map((i) => data.test.prefixes[i]), targets: Int32Array.from(order, (i) => data.test.targets[i]) };

/** Reciprocal rank at 20 of every example (0: not in the top 20) for the graph `bytes`. */
async function reciprocalRanks(bytes) {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const headDim = D / config.nHead;
  const recommender = {
    name: 'pq-quality',
    async score(prefixes) {
      const rows = prefixes.map(rowOf);
      const out = [];
      for (let start = 0; start < rows.length; ) {
        let end = start;
        while (end < rows.length && rows[end].length === rows[start].length) end++;
        const [B, T] = [end - start, rows[start].length];
        const feeds = {
          input_ids: new ort.Tensor('int64', BigInt64Array.from(rows.slice(start, end).flat(), BigInt), [B, T]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
          num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
        };
        for (let i = 0; i < config.nLayer; i++) for (const kind of ['key', 'value']) feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [B, config.nHead, 0, headDim]);
        const result = await session.run(feeds);
        const logits = result.logits.data;
        const width = result.logits.dims[2];
        const repeat = result.hunch_repeat;
        for (let b = 0; b < B; b++) {
          const scores = Float32Array.from(logits.subarray(b * width + ITEM_OFFSET, b * width + ITEM_OFFSET + numItems));
          if (repeat) {
            const bonus = repeat.data[b * repeat.dims[1] + repeat.dims[1] - 1];
            for (const item of new Set(prefixes[start + b])) scores[item] = Math.fround(scores[item] + bonus);
          }
          out.push(scores);
        }
        start = end;
      }
      return out;
    },
  };
  const ranks = new Float64Array(limit);
  await evaluateRecommender(recommender, examples, {
    popularity: data.popularity,
    rawIds: data.items.rawIds,
    mask: data.mask,
    batchSize: 64,
    topK: 20,
    onTopK: (top, e) => {
      const target = examples.targets[e];
      const at = target >= 0 ? top.indexOf(data.items.rawIds[target]) : -1;
      ranks[e] = at >= 0 ? 1 / (at + 1) : 0;
    },
  });
  await session.release();
  return ranks;
}

const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
const int8 = await reciprocalRanks(buildOnnxModel(config, weights, 'int8'));
const int8Mrr = mean(int8);
console.error(`int8: MRR@20 ${int8Mrr.toFixed(4)} over ${limit} examples`);
const results = [];
for (const options of variants) {
  const timings = {};
  const pq = quantizePq(table, V, D, { ...options, timings });
  const reconstruction = dequantizePq(pq);
  let [error, total] = [0, 0];
  for (let i = 0; i < table.length; i++) [error, total] = [error + (table[i] - reconstruction[i]) ** 2, total + table[i] ** 2];
  const ranks = await reciprocalRanks(buildOnnxModel(config, weights, 'pq', pq));
  const differences = ranks.map((r, i) => r - int8[i]);
  const d = mean(differences);
  const sd = Math.sqrt(differences.reduce((s, x) => s + (x - d) ** 2, 0) / (limit - 1));
  const result = {
    options,
    subspaces: pq.subspaces,
    rotation: pq.rotation !== undefined,
    mrr: +mean(ranks).toFixed(4),
    loss_pct: +((-d / int8Mrr) * 100).toFixed(2),
    loss_se_pct: +((sd / Math.sqrt(limit) / int8Mrr) * 100).toFixed(2),
    relative_squared_error: +(error / total).toFixed(4),
    quantize_s: +Object.values(timings).reduce((s, x) => s + x, 0).toFixed(1),
  };
  console.error(JSON.stringify(result));
  results.push(result);
}

const command = `npm run bench:pq-quality -- --checkpoint CHECKPOINT${flags.examples ? ` --examples ${flags.examples}` : ''} --variants '${JSON.stringify(variants)}'`;
replaceSection(
  join(root, 'BENCHMARKS.md'),
  flags.section,
  [
    `## pq quality: the item table's levers on Diginetica — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`${command}\` — ${numItems.toLocaleString('en')} items, n_embd ${D}; ${limit.toLocaleString('en')} test prefixes, each ranked by the int8 file (MRR@20 ${int8Mrr.toFixed(4)}) and by each pq file of the same checkpoint in onnxruntime-node; the loss is MRR@20's relative loss to int8, ± the standard error of the paired per-example differences. The default number of sub-spaces here (pqSubspaces at ${V.toLocaleString('en')} rows) is ${pqSubspaces(D, V)}.`,
    '',
    '| options | bytes per item | rotation | MRR@20 | loss vs int8 | ± s.e. | ‖x − x̃‖² / ‖x‖² | quantize s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| \`${JSON.stringify(r.options)}\` | ${r.subspaces} | ${r.rotation ? 'yes' : 'no'} | ${r.mrr.toFixed(4)} | ${r.loss_pct.toFixed(2)}% | ${r.loss_se_pct.toFixed(2)}% | ${r.relative_squared_error} | ${r.quantize_s} |`),
    '',
    'Target (issue 23): ≤ 1% loss against int8.',
  ].join('\n'),
);
console.log(JSON.stringify({ examples: limit, int8_mrr: +int8Mrr.toFixed(4), results }));
