/**
 * Hunch's GPT-2, run by the worker itself on WASM: one token at a time on a KV cache, in
 * plain float loops over the int8 export's weights (weights.ts). The model is a few hundred
 * thousand multiply-adds per token (2 layers of 64 in the shipped models), so it needs no
 * runtime: onnxruntime-web's start alone (instantiating its 10 MB of wasm) took ~475 ms of a
 * fresh worker here, where this reads the file and answers. Items are scored on the int8
 * table by the SIMD kernel (item-head/scorer.ts).
 *
 * It computes what the graph computes, op for op, in float64 rounded to float32 at the same
 * points as a tensor runtime stores its results (Float32Array buffers): the logits match
 * onnxruntime's to ~1e-5 (gpt2-engine.test.ts). Read top to bottom like nanoGPT:
 * embeddings, blocks (attention on the cache, MLP), final LayerNorm, heads.
 */
import type { Block, Gpt2Weights, LayerNorm, Linear } from './weights.js';

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

export class Gpt2 {
  readonly layers: number;
  private readonly headDim: number;
  // Scratch buffers, one set per model: a step allocates nothing.
  private readonly x: Float32Array;
  private readonly normed: Float32Array;
  private readonly qkv: Float32Array;
  private readonly attended: Float32Array;
  private readonly projected: Float32Array;
  private readonly hidden: Float32Array;
  private readonly scores: Float32Array;
  private readonly query: Float32Array;

  constructor(readonly weights: Gpt2Weights) {
    const { width, heads, positions, blocks } = weights;
    this.layers = blocks.length;
    this.headDim = width / heads;
    this.x = new Float32Array(width);
    this.normed = new Float32Array(width);
    this.qkv = new Float32Array(3 * width);
    this.attended = new Float32Array(width);
    this.projected = new Float32Array(4 * width);
    this.hidden = new Float32Array(4 * width);
    this.scores = new Float32Array(positions);
    this.query = new Float32Array(width);
  }

  newCache(): Gpt2Cache {
    return new Gpt2Cache(this.layers, this.weights.positions, this.weights.width);
  }

  /** Runs `tokens` after what `cache` holds (appending to it); the last token's output. */
  run(tokens: readonly number[], cache: Gpt2Cache): Gpt2Output {
    const { vocabulary, positions } = this.weights;
    if (tokens.length === 0) throw new Error('gpt2: no tokens to run');
    if (cache.length + tokens.length > positions) throw new Error(`gpt2: ${cache.length + tokens.length} tokens exceed the model's ${positions} positions`);
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabulary) throw new Error(`gpt2: token ${token} is not in the vocabulary of ${vocabulary}`);
      this.token(token, cache);
    }
    return this.heads();
  }

  /** One token through the blocks: x ends as its residual stream; its keys and values join the cache. */
  private token(token: number, cache: Gpt2Cache): void {
    const { width, table, tableScales, wpe, blocks } = this.weights;
    const position = cache.length;
    const x = this.x;
    const scale = tableScales[token]!;
    for (let d = 0; d < width; d++) x[d] = Math.fround(table[token * width + d]! * scale) + wpe[position * width + d]!;
    blocks.forEach((block, layer) => {
      this.attention(block, layer, position, cache);
      this.mlp(block);
    });
    cache.length = position + 1;
  }

  /** x += c_proj(softmax(q kᵀ / √hd + causal) v), with this position's k and v written to the cache. */
  private attention(block: Block, layer: number, position: number, cache: Gpt2Cache): void {
    const { width, heads } = this.weights;
    const hd = this.headDim;
    layerNorm(this.x, block.ln1, this.weights.epsilon, this.normed);
    linear(this.normed, block.attention, this.qkv);
    const keys = cache.keys[layer]!;
    const values = cache.values[layer]!;
    keys.set(this.qkv.subarray(width, 2 * width), position * width);
    values.set(this.qkv.subarray(2 * width, 3 * width), position * width);
    const scale = Math.fround(1 / Math.sqrt(hd));
    const scores = this.scores;
    for (let h = 0; h < heads; h++) {
      const offset = h * hd;
      let max = -Infinity;
      for (let t = 0; t <= position; t++) {
        let dot = 0;
        for (let j = 0; j < hd; j++) dot += this.qkv[offset + j]! * keys[t * width + offset + j]!;
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
        this.attended[offset + j] = y;
      }
    }
    linear(this.attended, block.attentionOut, this.projected);
    for (let d = 0; d < width; d++) this.x[d] = this.x[d]! + this.projected[d]!;
  }

  /** x += c_proj(gelu(c_fc(ln_2(x)))), GELU in its tanh form ("gelu_new"). */
  private mlp(block: Block): void {
    const { width } = this.weights;
    layerNorm(this.x, block.ln2, this.weights.epsilon, this.normed);
    const u = this.hidden;
    linear(this.normed, block.mlpIn, u);
    for (let i = 0; i < u.length; i++) {
      const v = u[i]!;
      u[i] = 0.5 * v * (1 + Math.tanh(GELU_SCALE * (v + 0.044715 * v * v * v)));
    }
    linear(u, block.mlpOut, this.projected);
    for (let d = 0; d < width; d++) this.x[d] = this.x[d]! + this.projected[d]!;
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

/** out = x · W + b (W row-major [inputs, outputs]): the outputs accumulate row by row of W, contiguous. */
function linear(x: Float32Array, { inputs, outputs, weight, bias }: Linear, out: Float32Array): void {
  out.set(bias);
  for (let i = 0; i < inputs; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * outputs;
    for (let o = 0; o < outputs; o++) out[o] = out[o]! + xi * weight[row + o]!;
  }
}
