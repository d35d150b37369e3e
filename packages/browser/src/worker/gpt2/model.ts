/**
 * Hunch's GPT-2, run by the worker itself on WASM: one token at a time on a KV cache, over
 * the int8 export's weights (weights.ts) dequantized to fp32: the linear layers in a small
 * WebAssembly SIMD kernel (kernel.ts), the rest in plain float loops. The model is a few
 * hundred thousand multiply-adds per token (2 layers of 64 in the shipped models), so it needs
 * no runtime: onnxruntime-web's start alone (instantiating its 10 MB of wasm) costs a fresh
 * worker more than this engine's whole load. Items are scored on the int8
 * table by the SIMD kernel (item-head/scorer.ts).
 *
 * It computes what the graph computes, op for op: the linear layers in float32 (multiply, then
 * add, as a MatMul up to the order of its sums), the rest in float64 rounded to float32 where a
 * tensor runtime stores its results. The final hidden state and the KV cache match onnxruntime's
 * to ~3e-6, the item logits (int16 query on the int8 table) to ~1.5e-4 (gpt2-engine.test.ts).
 * Read top to bottom like nanoGPT: embeddings, blocks (attention on the cache, MLP), final
 * LayerNorm, heads.
 */
import { instantiateLinearKernel, type LinearKernel } from './kernel.js';
import { embedItem } from '../item-head/item-table.js';
import type { Block, Gpt2Weights, LayerNorm, Linear } from './weights.js';
import type { ExtraInputRows } from '../runner.js';

/** Keys and values of every layer for the tokens run so far: [positions, width] per layer, heads side by side. */
export class Gpt2Cache {
  /** Tokens held. */
  length = 0;
  readonly keys: Float32Array[];
  readonly values: Float32Array[];

  constructor(layers: number, positions: number, width: number) {
    this.keys = Array.from({ length: layers }, () => new Float32Array(positions * width));
    this.values = Array.from({ length: layers }, () => new Float32Array(positions * width));
  }
}

/** What one step leaves for scoring: the last token's query for the item table, and its repeat bonus. */
export interface Gpt2Output {
  /** τ · h / |h| under cosine scoring, else h (the final hidden state): width floats, reused by the next step. */
  query: Float32Array;
  /** h · w + b, when the model has the repeat head. */
  repeat: number | undefined;
}

const GELU_SCALE = Math.sqrt(2 / Math.PI);
/** As the export's normalisation: h / sqrt(Σh² + 1e-12). */
const NORM_EPS = 1e-12;
const ALIGN = 16;
const PAGE = 65536;

/** A float buffer in the kernel's memory: its byte offset and a view on it. */
interface Placed {
  at: number;
  view: Float32Array;
}

/** A linear layer in the kernel's memory. */
interface PlacedLinear {
  inputs: number;
  outputs: number;
  weight: number;
  bias: number;
}

interface PlacedBlock extends Pick<Block, 'ln1' | 'ln2'> {
  attention: PlacedLinear;
  attentionOut: PlacedLinear;
  mlpIn: PlacedLinear;
  mlpOut: PlacedLinear;
}

/** Lays float arrays out in the kernel's memory (16-byte aligned), then copies them in. */
class MemoryPlan {
  private end = 0;
  private readonly copies: Array<{ at: number; data: Float32Array }> = [];

  /** The byte offset of `floats` floats (holding `data`, when given). */
  place(floats: number, data?: Float32Array): number {
    const at = this.end;
    this.end = Math.ceil((at + floats * 4) / ALIGN) * ALIGN;
    if (data) this.copies.push({ at, data });
    return at;
  }

  /** Grows `memory` to fit and copies the data in. */
  commit(memory: WebAssembly.Memory): void {
    const needed = Math.ceil(this.end / PAGE) - memory.buffer.byteLength / PAGE;
    if (needed > 0) memory.grow(needed);
    for (const { at, data } of this.copies) new Float32Array(memory.buffer, at, data.length).set(data);
  }
}

export class Gpt2 {
  readonly layers: number;
  private readonly headDim: number;
  private readonly blocks: PlacedBlock[];
  // Scratch buffers, one set per model: a step allocates nothing. Those the linear layers read
  // or write live in the kernel's memory.
  private readonly x: Float32Array;
  private readonly normed: Placed;
  private readonly qkv: Placed;
  private readonly attended: Placed;
  private readonly projected: Placed;
  private readonly hidden: Placed;
  private readonly scores: Float32Array;
  private readonly query: Float32Array;
  private extra: ExtraInputRows | undefined;

  /** The model, or undefined where it cannot run here (no WebAssembly SIMD, or a layer width the kernel does not take: not a multiple of 4). */
  static create(weights: Gpt2Weights): Gpt2 | undefined {
    const linears = weights.blocks.flatMap((block) => [block.attention, block.attentionOut, block.mlpIn, block.mlpOut]);
    if (linears.some((linear) => linear.outputs % 4 !== 0)) return undefined;
    const kernel = instantiateLinearKernel();
    return kernel && new Gpt2(weights, kernel);
  }

  private constructor(
    readonly weights: Gpt2Weights,
    private readonly kernel: LinearKernel,
  ) {
    const { width, heads, positions, blocks } = weights;
    this.layers = blocks.length;
    this.headDim = width / heads;
    const plan = new MemoryPlan();
    const placeLinear = ({ inputs, outputs, weight, bias }: Linear): PlacedLinear => ({ inputs, outputs, weight: plan.place(weight.length, weight), bias: plan.place(bias.length, bias) });
    this.blocks = blocks.map((block) => ({
      ln1: block.ln1,
      ln2: block.ln2,
      attention: placeLinear(block.attention),
      attentionOut: placeLinear(block.attentionOut),
      mlpIn: placeLinear(block.mlpIn),
      mlpOut: placeLinear(block.mlpOut),
    }));
    const scratch = [width, 3 * width, width, width, 4 * width].map((floats) => ({ at: plan.place(floats), floats }));
    plan.commit(kernel.memory);
    const [normed, qkv, attended, projected, hidden] = scratch.map(({ at, floats }) => ({ at, view: new Float32Array(kernel.memory.buffer, at, floats) }));
    [this.normed, this.qkv, this.attended, this.projected, this.hidden] = [normed!, qkv!, attended!, projected!, hidden!];
    this.x = new Float32Array(width);
    this.scores = new Float32Array(positions);
    this.query = new Float32Array(width);
  }

  newCache(): Gpt2Cache {
    return new Gpt2Cache(this.layers, this.weights.positions, this.weights.width);
  }

  /**
   * Embeds tokens vocabulary .. vocabulary + rows - 1 from `extra` (the item table's format and
   * normalisation): the trainer feeds an attribute-composed item the same vector as input as it
   * scores it with (trainer next-item/heads.ts).
   */
  setExtraInputs(extra: ExtraInputRows): void {
    if (extra.table.length !== extra.rows * this.weights.width || extra.scales.length !== extra.rows) throw new Error(`gpt2: ${extra.rows} extra input rows do not match their table`);
    this.extra = extra;
  }

  /** Runs `tokens` after what `cache` holds (appending to it); the last token's output. */
  run(tokens: readonly number[], cache: Gpt2Cache): Gpt2Output {
    const { vocabulary, positions } = this.weights;
    const known = vocabulary + (this.extra?.rows ?? 0);
    if (tokens.length === 0) throw new Error('gpt2: no tokens to run');
    if (cache.length + tokens.length > positions) throw new Error(`gpt2: ${cache.length + tokens.length} tokens exceed the model's ${positions} positions`);
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= known) throw new Error(`gpt2: token ${token} is not in the vocabulary of ${known}`);
      this.token(token, cache);
    }
    return this.heads();
  }

  private embed(token: number, into: Float32Array): void {
    const { vocabulary, width } = this.weights;
    if (token < vocabulary) return embedItem(this.weights.items, token, into);
    const row = token - vocabulary;
    const { table, scales } = this.extra!;
    for (let d = 0; d < width; d++) into[d] = table[row * width + d]! * scales[row]!;
  }

  /** One token through the blocks: x ends as its residual stream; its keys and values join the cache. */
  private token(token: number, cache: Gpt2Cache): void {
    const { width, wpe } = this.weights;
    const position = cache.length;
    const x = this.x;
    this.embed(token, x);
    for (let d = 0; d < width; d++) x[d] = x[d]! + wpe[position * width + d]!;
    this.blocks.forEach((block, layer) => {
      this.attention(block, layer, position, cache);
      this.mlp(block);
    });
    cache.length = position + 1;
  }

  /** out = x · W + b, in the kernel. */
  private linear(x: Placed, layer: PlacedLinear, out: Placed): void {
    this.kernel.linear(x.at, layer.inputs, layer.weight, layer.bias, out.at, layer.outputs / 4);
  }

  /** x += c_proj(softmax(q kᵀ / √hd + causal) v), with this position's k and v written to the cache. */
  private attention(block: PlacedBlock, layer: number, position: number, cache: Gpt2Cache): void {
    const { width, heads } = this.weights;
    const hd = this.headDim;
    layerNorm(this.x, block.ln1, this.weights.epsilon, this.normed.view);
    this.linear(this.normed, block.attention, this.qkv);
    const qkv = this.qkv.view;
    const keys = cache.keys[layer]!;
    const values = cache.values[layer]!;
    keys.set(qkv.subarray(width, 2 * width), position * width);
    values.set(qkv.subarray(2 * width, 3 * width), position * width);
    const scale = Math.fround(1 / Math.sqrt(hd));
    const scores = this.scores;
    const attended = this.attended.view;
    for (let h = 0; h < heads; h++) {
      const offset = h * hd;
      let max = -Infinity;
      for (let t = 0; t <= position; t++) {
        let dot = 0;
        for (let j = 0; j < hd; j++) dot += qkv[offset + j]! * keys[t * width + offset + j]!;
        scores[t] = Math.fround(dot) * scale;
        if (scores[t]! > max) max = scores[t]!;
      }
      let sum = 0;
      for (let t = 0; t <= position; t++) {
        scores[t] = Math.exp(scores[t]! - max);
        sum += scores[t]!;
      }
      for (let j = 0; j < hd; j++) {
        let y = 0;
        for (let t = 0; t <= position; t++) y += Math.fround(scores[t]! / sum) * values[t * width + offset + j]!;
        attended[offset + j] = y;
      }
    }
    this.linear(this.attended, block.attentionOut, this.projected);
    const projected = this.projected.view;
    for (let d = 0; d < width; d++) this.x[d] = this.x[d]! + projected[d]!;
  }

  /** x += c_proj(gelu(c_fc(ln_2(x)))), GELU in its tanh form ("gelu_new"). */
  private mlp(block: PlacedBlock): void {
    const { width } = this.weights;
    layerNorm(this.x, block.ln2, this.weights.epsilon, this.normed.view);
    this.linear(this.normed, block.mlpIn, this.hidden);
    const u = this.hidden.view;
    for (let i = 0; i < u.length; i++) {
      const v = u[i]!;
      u[i] = 0.5 * v * (1 + Math.tanh(GELU_SCALE * (v + 0.044715 * v * v * v)));
    }
    this.linear(this.hidden, block.mlpOut, this.projected);
    const projected = this.projected.view;
    for (let d = 0; d < width; d++) this.x[d] = this.x[d]! + projected[d]!;
  }

  /** ln_f, then the repeat bonus from h and the query the item table scores. */
  private heads(): Gpt2Output {
    const { lnF, epsilon, repeat, cosineScale, width } = this.weights;
    const h = this.query;
    layerNorm(this.x, lnF, epsilon, h);
    let bonus: number | undefined;
    if (repeat) {
      let dot = 0;
      for (let d = 0; d < width; d++) dot += h[d]! * repeat.weight[d]!;
      bonus = Math.fround(dot) + repeat.bias;
    }
    if (cosineScale !== undefined) {
      let squares = 0;
      for (let d = 0; d < width; d++) squares += h[d]! * h[d]!;
      const norm = Math.sqrt(Math.fround(squares) + NORM_EPS);
      for (let d = 0; d < width; d++) h[d] = Math.fround(h[d]! / norm) * cosineScale;
    }
    return { query: h, repeat: bonus };
  }
}

/** out = (x - mean) / sqrt(var + ε) · weight + bias. */
function layerNorm(x: Float32Array, { weight, bias }: LayerNorm, epsilon: number, out: Float32Array): void {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  const inverse = 1 / Math.sqrt(variance / n + epsilon);
  for (let i = 0; i < n; i++) out[i] = (x[i]! - mean) * inverse * weight[i]! + bias[i]!;
}
