/**
 * The worker's own GPT-2 (worker/gpt2) against onnxruntime-node running the same int8 file:
 * the trainer's graph with every Hunch head and without, and the shipped demo model. The
 * engine's query, repeat bonus and KV cache match the graph's tensors to float rounding, and
 * its logits (through the item kernel) give the same top items; any file that is not exactly
 * a Hunch int8 GPT-2 is refused, so that onnxruntime runs it.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Gpt2 } from '../src/worker/gpt2/model.js';
import { readGpt2Weights } from '../src/worker/gpt2/weights.js';
import { ItemScorer } from '../src/worker/item-head/scorer.js';
import { tableScorer } from '../src/worker/item-head/item-table.js';
import { splitItemHead } from '../src/worker/item-head/split.js';
import { MessageWriter, fields } from '../src/worker/onnx/protobuf.js';
import { demoModel, exportedWithHeads, maxAbsDiff, step, topIds, type Layout } from './lib/exported-gpt2.js';

/** [1, heads, tokens, headDim] (onnxruntime's present.*) as the engine keeps it: [tokens, heads · headDim]. */
function byPosition(tensor: ort.Tensor, { heads, headDim }: Layout): Float32Array {
  const tokens = tensor.dims[2]!;
  const data = tensor.data as Float32Array;
  const out = new Float32Array(tokens * heads * headDim);
  for (let h = 0; h < heads; h++) for (let t = 0; t < tokens; t++) for (let j = 0; j < headDim; j++) out[t * heads * headDim + h * headDim + j] = data[(h * tokens + t) * headDim + j]!;
  return out;
}

/**
 * Runs `tokens` then `next` in the engine (the second call on the first's cache, as the worker
 * does) and through onnxruntime: the whole graph and its body without the item head.
 */
async function compare(bytes: Uint8Array, layout: Layout, tokens: number[], next: number) {
  const weights = readGpt2Weights(bytes, layout.heads);
  expect(weights).toBeDefined();
  const model = Gpt2.create(weights!)!;
  const cache = model.newCache();
  model.run(tokens, cache);
  const { query, repeat } = model.run([next], cache);
  expect(cache.length).toBe(tokens.length + 1);

  const split = splitItemHead(bytes)!;
  const whole = await step(await ort.InferenceSession.create(bytes), layout, tokens, next);
  const body = await step(await ort.InferenceSession.create(split.body), layout, tokens, next);
  const expectedQuery = body[split.head.query]!.data as Float32Array;
  expect(maxAbsDiff(query, expectedQuery)).toBeLessThan(1e-4 * Math.max(1, ...Array.from(expectedQuery, Math.abs)));
  for (let layer = 0; layer < layout.layers; layer++) {
    const width = layout.heads * layout.headDim;
    const keys = cache.keys[layer]!.subarray(0, cache.length * width);
    const values = cache.values[layer]!.subarray(0, cache.length * width);
    expect(maxAbsDiff(keys, byPosition(whole[`present.${layer}.key`]!, layout))).toBeLessThan(1e-4);
    expect(maxAbsDiff(values, byPosition(whole[`present.${layer}.value`]!, layout))).toBeLessThan(1e-4);
  }

  const logits = new Float32Array(weights!.vocabulary);
  ItemScorer.create(split.head)!.score(query, logits);
  const expectedLogits = whole.logits!.data as Float32Array;
  expect(maxAbsDiff(logits, expectedLogits)).toBeLessThan(2e-3);
  expect(topIds(logits, 20)).toEqual(topIds(expectedLogits, 20));
  return { weights: weights!, repeat, whole };
}

/** `model` with its producer name or version replaced, or an initializer renamed. */
function rewritten(model: Uint8Array, change: { producer?: string; version?: string; rename?: [string, string] }): Uint8Array {
  const encoder = new TextEncoder();
  const out = new MessageWriter();
  for (const field of fields(model)) {
    if (field.number === 2 && change.producer !== undefined) out.string(2, change.producer);
    else if (field.number === 3 && change.version !== undefined) out.string(3, change.version);
    else if (field.number === 7 && change.rename) {
      const graph = new MessageWriter();
      for (const part of fields(field.bytes)) {
        if (part.number !== 5) {
          graph.raw(part.raw);
          continue;
        }
        const tensor = new MessageWriter();
        for (const t of fields(part.bytes)) {
          if (t.number === 8 && new TextDecoder().decode(t.bytes) === change.rename[0]) tensor.bytes(8, encoder.encode(change.rename[1]));
          else tensor.raw(t.raw);
        }
        graph.bytes(5, tensor.finish());
      }
      out.bytes(7, graph.finish());
    } else out.raw(field.raw);
  }
  return out.finish();
}

describe('the worker’s GPT-2 (worker/gpt2)', () => {
  it("runs the trainer's int8 graph with every head as onnxruntime does: query, repeat bonus, cache and top items", async () => {
    const { config, bytes } = exportedWithHeads('int8');
    const layout = { layers: config.nLayer, heads: config.nHead, headDim: config.nEmbd / config.nHead };
    const { weights, repeat, whole } = await compare(bytes, layout, [1, 40, 7, 299, 150, 12, 12, 3], 42);
    expect([weights.vocabulary, weights.width, weights.positions, weights.blocks.length]).toEqual([config.vocabSize, config.nEmbd, config.nPositions, config.nLayer]);
    expect(weights.epsilon).toBeCloseTo(config.layerNormEpsilon, 9);
    expect(weights.cosineScale).toBe(12);
    expect(weights.itemBias).toHaveLength(config.vocabSize);
    const expectedRepeat = (whole.hunch_repeat!.data as Float32Array)[0]!;
    expect(repeat).toBeDefined();
    expect(Math.abs(repeat! - expectedRepeat)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expectedRepeat)));
  });

  // With OPQ's rotation (--pq-rotation-rounds) and without (the default, and files exported before the rotation).
  for (const rotationRounds of [6, 0]) {
    it(`runs the trainer's pq graph ${rotationRounds === 0 ? 'without' : 'with'} a rotation and every head as onnxruntime does: cache, repeat bonus, and the pq scorer's logits and top items`, async () => {
      const { config, bytes } = exportedWithHeads('pq', true, { rotationRounds });
      const layout = { layers: config.nLayer, heads: config.nHead, headDim: config.nEmbd / config.nHead };
      const weights = readGpt2Weights(bytes, config.nHead)!;
      expect(weights.items.kind).toBe('pq');
      expect(weights.items.kind === 'pq' && weights.items.rotation?.length).toBe(rotationRounds === 0 ? undefined : config.nEmbd * config.nEmbd);
      expect([weights.vocabulary, weights.width]).toEqual([config.vocabSize, config.nEmbd]);
      const model = Gpt2.create(weights)!;
      const [tokens, next] = [[1, 40, 7, 299, 150, 12, 12, 3], 42];
      const cache = model.newCache();
      model.run(tokens, cache);
      const { query, repeat } = model.run([next], cache);
      const whole = await step(await ort.InferenceSession.create(bytes), layout, tokens, next);
      for (let layer = 0; layer < layout.layers; layer++) {
        const width = layout.heads * layout.headDim;
        expect(maxAbsDiff(cache.keys[layer]!.subarray(0, cache.length * width), byPosition(whole[`present.${layer}.key`]!, layout))).toBeLessThan(1e-4);
        expect(maxAbsDiff(cache.values[layer]!.subarray(0, cache.length * width), byPosition(whole[`present.${layer}.value`]!, layout))).toBeLessThan(1e-4);
      }
      expect(Math.abs(repeat! - (whole.hunch_repeat!.data as Float32Array)[0]!)).toBeLessThan(1e-4);
      const scorer = tableScorer(weights.items, weights.itemBias)!;
      expect(scorer.itemScoring).toBe('pq-simd');
      const logits = new Float32Array(weights.vocabulary);
      scorer.score(query, logits);
      const expected = whole.logits!.data as Float32Array;
      expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-3);
      expect(topIds(logits, 20)).toEqual(topIds(expected, 20));
    });
  }

  it('runs the graph without heads (no bias, no cosine, no repeat) and fills the whole context', async () => {
    const { config, bytes } = exportedWithHeads('int8', false);
    const tokens = Array.from({ length: config.nPositions - 1 }, (_, i) => (i * 37) % config.vocabSize);
    const { weights, repeat } = await compare(bytes, { layers: config.nLayer, heads: config.nHead, headDim: config.nEmbd / config.nHead }, tokens, 5);
    expect([weights.itemBias, weights.cosineScale, weights.repeat, repeat]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('runs the shipped demo model', async () => {
    const config = JSON.parse(demoModel('config.json').toString()) as { n_layer: number; n_head: number; n_embd: number; vocab_size: number };
    const { weights } = await compare(demoModel('onnx/model_quantized.onnx'), { layers: config.n_layer, heads: config.n_head, headDim: config.n_embd / config.n_head }, [1, 20, 30, 40, 21, 22], 50);
    expect(weights.vocabulary).toBe(config.vocab_size);
  });

  it('refuses every file that is not exactly a Hunch int8 GPT-2, so that onnxruntime runs it', () => {
    const { bytes } = exportedWithHeads('int8');
    expect(readGpt2Weights(bytes, 2)).toBeDefined();
    expect(readGpt2Weights(exportedWithHeads('fp32').bytes, 2)).toBeUndefined();
    expect(readGpt2Weights(exportedWithHeads('q4').bytes, 2)).toBeUndefined();
    expect(readGpt2Weights(rewritten(exportedWithHeads('pq').bytes, { rename: ['transformer.wte.weight.pq_codebooks', 'transformer.wte.weight.other'] }), 2)).toBeUndefined();
    expect(readGpt2Weights(demoModel('onnx/model.onnx'), 2)).toBeUndefined();
    // Another producer's file with the same names; a weight the engine would not use; a missing one.
    expect(readGpt2Weights(rewritten(bytes, { producer: 'someone-else' }), 2)).toBeUndefined();
    // An exporter version the engine was not checked against.
    expect(readGpt2Weights(rewritten(bytes, { version: '0.2.0' }), 2)).toBeUndefined();
    expect(readGpt2Weights(rewritten(bytes, { rename: ['lm_head.bias', 'lm_head.extra'] }), 2)).toBeUndefined();
    expect(readGpt2Weights(rewritten(bytes, { rename: ['transformer.h.1.mlp.c_fc.bias', 'transformer.h.1.mlp.c_fc.other'] }), 2)).toBeUndefined();
    // hunch.json naming another head count than the graph splits q, k and v into (2), dividing the width or not.
    expect(readGpt2Weights(bytes, 1)).toBeUndefined();
    expect(readGpt2Weights(bytes, 4)).toBeUndefined();
    expect(readGpt2Weights(bytes, 3)).toBeUndefined();
    expect(() => readGpt2Weights(Uint8Array.from([0x3a, 0x40, 1, 2]), 2)).toThrow(/truncated or malformed protobuf/);
  });

  it('is not created where the linear kernel cannot run a layer (outputs not a multiple of 4)', () => {
    const weights = readGpt2Weights(exportedWithHeads('int8').bytes, 2)!;
    expect(Gpt2.create(weights)).toBeDefined();
    const [first, ...rest] = weights.blocks;
    const odd = { ...first!, mlpOut: { ...first!.mlpOut, outputs: 30, bias: first!.mlpOut.bias.subarray(0, 30) } };
    expect(Gpt2.create({ ...weights, blocks: [odd, ...rest] })).toBeUndefined();
  });

  it('refuses tokens outside the vocabulary and runs past the context, naming them', () => {
    const { config, bytes } = exportedWithHeads('int8');
    const model = Gpt2.create(readGpt2Weights(bytes, config.nHead)!)!;
    expect(() => model.run([config.vocabSize], model.newCache())).toThrow(`gpt2: token ${config.vocabSize} is not in the vocabulary of ${config.vocabSize}`);
    expect(() => model.run([], model.newCache())).toThrow('gpt2: no tokens to run');
    const cache = model.newCache();
    model.run(new Array<number>(config.nPositions).fill(1), cache);
    expect(() => model.run([1], cache)).toThrow(`gpt2: ${config.nPositions + 1} tokens exceed the model's ${config.nPositions} positions`);
  });

  it('embeds tokens after the vocabulary from extra int8 rows (new products): a copy of an item row runs as that item', () => {
    const { config, bytes } = exportedWithHeads('int8');
    const weights = readGpt2Weights(bytes, config.nHead)!;
    const model = Gpt2.create(weights)!;
    const items = weights.items;
    if (items.kind !== 'int8') throw new Error('an int8 export has an int8 item table');
    const width = weights.width;
    const copied = 7;
    const other = 11;
    // Row 0: item 7's row; row 1: item 11's, so a wrong row would give item 11's output.
    const table = new Int8Array([...items.codes.subarray(copied * width, (copied + 1) * width), ...items.codes.subarray(other * width, (other + 1) * width)]);
    model.setExtraInputs({ rows: 2, table, scales: Float32Array.of(items.scales[copied]!, items.scales[other]!) });
    const run = (tokens: number[]) => Array.from(model.run(tokens, model.newCache()).query);
    expect(run([1, 20, config.vocabSize])).toEqual(run([1, 20, copied]));
    expect(run([1, config.vocabSize + 1, 20])).toEqual(run([1, other, 20]));
    expect(run([1, config.vocabSize])).not.toEqual(run([1, other]));
    expect(() => model.run([config.vocabSize + 2], model.newCache())).toThrow(`gpt2: token ${config.vocabSize + 2} is not in the vocabulary of ${config.vocabSize + 2}`);
    expect(() => model.setExtraInputs({ rows: 2, table: table.subarray(1), scales: Float32Array.of(1, 1) })).toThrow('gpt2: 2 extra input rows do not match their table');
  });
});
