// A checkpoint of random weights with `items` products, for measuring size and speed at a scale no
// dataset here has (bench:inference --generate N): the demo model's behaviour tokens (actions,
// search words and merges) and N item tokens, GPT-2 weights drawn from a seeded normal, an item
// bias and cosine scoring as the trained models have; and a catalog with one product per item.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniforms } from './random.mjs';

export { uniforms };

const root = fileURLToPath(new URL('../..', import.meta.url));
const { writeCheckpoint } = await import(join(root, 'packages', 'trainer', 'dist', 'index.js'));

/** A standard normal from uniforms(seed) (Box–Muller). */
function normals(seed) {
  const uniform = uniforms(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** GPT-2's tensors (the trainer's model.ts parameterShapes) for this shape. */
function shapes({ vocabSize: V, nPositions: P, nEmbd: D, nLayer }) {
  const out = [['transformer.wte.weight', [V, D]], ['transformer.wpe.weight', [P, D]]];
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    out.push([`${h}.ln_1.weight`, [D]], [`${h}.ln_1.bias`, [D]], [`${h}.attn.c_attn.weight`, [D, 3 * D]], [`${h}.attn.c_attn.bias`, [3 * D]], [`${h}.attn.c_proj.weight`, [D, D]], [`${h}.attn.c_proj.bias`, [D]]);
    out.push([`${h}.ln_2.weight`, [D]], [`${h}.ln_2.bias`, [D]], [`${h}.mlp.c_fc.weight`, [D, 4 * D]], [`${h}.mlp.c_fc.bias`, [4 * D]], [`${h}.mlp.c_proj.weight`, [4 * D, D]], [`${h}.mlp.c_proj.bias`, [D]]);
  }
  out.push(['transformer.ln_f.weight', [D]], ['transformer.ln_f.bias', [D]]);
  return out;
}

/**
 * Writes the checkpoint to `checkpointDir` and the catalog (`hunch export --catalog`) to
 * `catalogPath`; `shape`: n_embd, layers, heads, positions.
 */
export async function writeGeneratedModel({ items, checkpointDir, catalogPath, embd = 64, layers = 2, heads = 2, positions = 64, seed = 23 }) {
  const demo = JSON.parse(readFileSync(join(root, 'models', 'demo', 'hunch.json'), 'utf8'));
  const ids = Array.from({ length: items }, (_, i) => String(100000 + i));
  const vocabulary = [...demo.vocabulary.filter((token) => !token.startsWith('item:')), ...ids.map((id) => `item:${id}`)];
  const config = { vocabSize: vocabulary.length, nPositions: positions, nEmbd: embd, nLayer: layers, nHead: heads, layerNormEpsilon: 1e-5 };
  const normal = normals(seed);
  const weights = new Map();
  for (const [name, shape] of shapes(config)) {
    const size = shape.reduce((n, d) => n * d, 1);
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    const std = /ln_|bias$/.test(name) ? 0 : 0.05;
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = gain + (std && normal() * std);
    weights.set(name, { shape, data });
  }
  weights.set('lm_head.bias', { shape: [config.vocabSize], data: Float32Array.from({ length: config.vocabSize }, () => normal() * 0.5) });
  weights.set('hunch.cosine.scale', { shape: [1], data: Float32Array.of(12) });
  // A popularity order: item i seen (items - i) times.
  const itemCounts = Object.fromEntries(ids.map((id, i) => [id, items - i]));
  const training = { events: 0, sequences: 0, steps: 0, finalLoss: 0, seed, skippedLines: 0, batch: 0, learningRate: 0, seconds: 0, tokensPerSecond: 0 };
  await writeCheckpoint(checkpointDir, {
    config,
    weights,
    metadata: { format: 'hunch-checkpoint', vocabulary, merges: demo.merges, itemCounts, training, nextItem: { heads: { itemBias: true, repeat: false, cosineScale: 12 } } },
  });
  const lines = ids.map((id, i) => JSON.stringify({ id, title: `Product ${id}`, url: `http://shop.example/p/${id}`, price: 1 + (i % 997) / 10, category: `c${i % 50}` }));
  writeFileSync(catalogPath, `{"products":[\n${lines.join(',\n')}\n]}\n`);
}
