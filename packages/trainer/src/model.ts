/**
 * GPT-2 in TensorFlow.js, written to be read top to bottom like nanoGPT:
 * token + position embeddings, pre-LayerNorm blocks (attention, then MLP, each with a
 * residual), a final LayerNorm and an LM head tied to the token embedding.
 * Parameters carry their Hugging Face names and shapes, so a checkpoint is a
 * GPT2LMHeadModel without any renaming.
 *
 * For the tfjs wasm backend: the embedding lookup is `gatherRows`, a tf.gather whose
 * gradient is a ScatterNd (tf.gather's own gradient needs UnsortedSegmentSum, which wasm
 * lacks), and transposes are explicit because transposed BatchMatMul is much slower there.
 *
 * The blocks are plain functions of a parameter getter (`transformer`), so the class below
 * (whole-vocabulary logits, for predict.ts) and training (next-item/loss.ts: sampled
 * softmax over a few gathered embedding rows) share one definition.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './lib/prng.js';
import { gatherRowsWasmKernel } from './wasm-gather-rows.js';
import type { TensorMap } from './safetensors.js';

export interface GPT2Config {
  vocabSize: number;
  /** Context length: the most tokens the model sees at once. */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
}

/** Every parameter's Hugging Face name and shape, in the order GPT2LMHeadModel lists them. */
export function parameterShapes(config: GPT2Config): Array<[string, number[]]> {
  const { vocabSize: V, nPositions: P, nEmbd: D, nLayer } = config;
  const shapes: Array<[string, number[]]> = [
    ['transformer.wte.weight', [V, D]],
    ['transformer.wpe.weight', [P, D]],
  ];
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    shapes.push(
      [`${h}.ln_1.weight`, [D]],
      [`${h}.ln_1.bias`, [D]],
      [`${h}.attn.c_attn.weight`, [D, 3 * D]],
      [`${h}.attn.c_attn.bias`, [3 * D]],
      [`${h}.attn.c_proj.weight`, [D, D]],
      [`${h}.attn.c_proj.bias`, [D]],
      [`${h}.ln_2.weight`, [D]],
      [`${h}.ln_2.bias`, [D]],
      [`${h}.mlp.c_fc.weight`, [D, 4 * D]],
      [`${h}.mlp.c_fc.bias`, [4 * D]],
      [`${h}.mlp.c_proj.weight`, [4 * D, D]],
      [`${h}.mlp.c_proj.bias`, [D]],
    );
  }
  shapes.push(['transformer.ln_f.weight', [D]], ['transformer.ln_f.bias', [D]]);
  return shapes;
}

/**
 * GPT-2's initialisation, from our own seeded PRNG (not tf.random) so weights depend
 * only on the seed: N(0, 0.02) for weights, with residual projections scaled by
 * 1/sqrt(2 * n_layer); LayerNorm gain 1; biases 0.
 */
export function initParameters(config: GPT2Config, seed: number): TensorMap {
  const rng = new Rng(seed);
  const params: TensorMap = new Map();
  for (const [name, shape] of parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
    if (name.endsWith('.bias')) {
      // zeros
    } else if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) {
      data.fill(1);
    } else {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    }
    params.set(name, { shape, data });
  }
  return params;
}

/** GPT2LMHeadModel's forward pass on fixed weights (training computes with `transformer` directly). */
export class GPT2 {
  readonly config: GPT2Config;
  /** Parameters by Hugging Face name. */
  private readonly params = new Map<string, tf.Tensor>();

  constructor(config: GPT2Config, weights: TensorMap) {
    if (config.nEmbd % config.nHead !== 0) throw new Error('n_embd must be divisible by n_head');
    this.config = config;
    for (const [name, shape] of parameterShapes(config)) {
      const tensor = weights.get(name);
      if (!tensor) throw new Error(`missing tensor ${name}`);
      if (tensor.shape.join(',') !== shape.join(',')) {
        throw new Error(`tensor ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      this.params.set(name, tf.tensor(tensor.data, shape, 'float32'));
    }
  }

  private p(name: string): tf.Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`no parameter ${name}`);
    return t;
  }

  /**
   * Logits [B, T, V] for token ids [B, T] (int32). `attentionMask` [B, T] (1 = real token,
   * 0 = padding) hides padded keys, exactly as the exported ONNX graph does.
   */
  forward(ids: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      const V = this.config.vocabSize;
      const wte = this.p('transformer.wte.weight');
      const x = transformer((name) => this.p(name), this.config, gatherRows(wte, ids.reshape([B * T])), B, T, attentionMask);
      // Tied LM head: logits = h · wteᵀ.
      return matMul(x, tf.transpose(wte)).reshape([B, T, V]) as tf.Tensor3D;
    });
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
  }
}

/** A parameter by Hugging Face name. */
export type ParamGetter = (name: string) => tf.Tensor;

/**
 * Rows `indices` [N] (int32) of `table` [R, D], with a gradient that works on wasm:
 * d table = ScatterNd(indices, dy) (duplicate indices add up), instead of tf.gather's
 * UnsortedSegmentSum, which the wasm backend lacks. On wasm the rows are copied in
 * JavaScript: its GatherV2 kernel took ~10x as long for a training step's tables.
 */
export function gatherRows(table: tf.Tensor, indices: tf.Tensor): tf.Tensor2D {
  const gather = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [t, index, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([index]);
    return {
      value: tf.getBackend() === 'wasm' ? gatherRowsWasmKernel(t, index) : tf.gather(t, index),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const at = saved[0]!;
        return [tf.scatterND(at.reshape([-1, 1]), dy, t.shape), tf.zerosLike(at)];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return gather(table, indices.reshape([-1])) as tf.Tensor2D;
}

/** Swaps the last two axes (an explicit transpose: transposed BatchMatMul is slow on wasm). */
export function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank).keys()];
  [perm[t.rank - 1], perm[t.rank - 2]] = [t.rank - 2, t.rank - 1];
  return tf.transpose(t, perm);
}

/**
 * a @ b (same batch dims) whose gradient uses explicit transposes: tf.matMul's own
 * gradient multiplies with transposed operands, which is 10-40x slower on wasm.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy, swapLast(saved[1]!)), tf.matMul(swapLast(saved[0]!), dy)],
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(a, b);
}

/**
 * Dropout hook: called with an activation [B*T, D] and the index of the dropout site
 * (0: embeddings; then for layer i: 1 + 2i after attention, 2 + 2i after the MLP).
 * Returns the activation with dropout applied (or unchanged).
 */
export type Dropout = (x: tf.Tensor, site: number) => tf.Tensor;

/**
 * The GPT-2 trunk: token embeddings `tokens` [B*T, D] (already looked up) + learned
 * positions 0..T-1, `nLayer` pre-LN blocks, the final LayerNorm. Returns [B*T, D].
 */
export function transformer(
  p: ParamGetter,
  config: GPT2Config,
  tokens: tf.Tensor,
  B: number,
  T: number,
  attentionMask?: tf.Tensor2D,
  dropout?: Dropout,
): tf.Tensor2D {
  const { nEmbd: D, nLayer } = config;
  if (T > config.nPositions) throw new Error(`sequence of ${T} tokens exceeds the context of ${config.nPositions}`);
  const positions = p('transformer.wpe.weight').slice([0, 0], [T, D]);
  let x: tf.Tensor = tokens.reshape([B, T, D]).add(positions).reshape([B * T, D]);
  const drop: Dropout = dropout ?? ((t) => t);
  x = drop(x, 0);
  const maskBias = attentionBias(T, attentionMask);
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    x = x.add(drop(attention(p, config, layerNorm(p, config, x, `${h}.ln_1`), h, B, T, maskBias), 1 + 2 * i));
    x = x.add(drop(mlp(p, layerNorm(p, config, x, `${h}.ln_2`), h), 2 + 2 * i));
  }
  return layerNorm(p, config, x, 'transformer.ln_f') as tf.Tensor2D;
}

function layerNorm(p: ParamGetter, config: GPT2Config, x: tf.Tensor, prefix: string): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = x.sub(mean).mul(tf.rsqrt(variance.add(config.layerNormEpsilon)));
  return normed.mul(p(`${prefix}.weight`)).add(p(`${prefix}.bias`));
}

function linear(p: ParamGetter, x: tf.Tensor, prefix: string): tf.Tensor {
  return matMul(x, p(`${prefix}.weight`)).add(p(`${prefix}.bias`));
}

/** Causal multi-head self-attention on x [B*T, D]. */
function attention(p: ParamGetter, config: GPT2Config, x: tf.Tensor, h: string, B: number, T: number, maskBias: tf.Tensor): tf.Tensor {
  const { nEmbd: D, nHead: H } = config;
  const hd = D / H;
  const [q, k, v] = tf.split(linear(p, x, `${h}.attn.c_attn`), 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const heads = (t: tf.Tensor) => t.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]); // [B, H, T, hd]
  const kT = k.reshape([B, T, H, hd]).transpose([0, 2, 3, 1]); // [B, H, hd, T]
  const scores = matMul(heads(q), kT).mul(1 / Math.sqrt(hd)).add(maskBias);
  const y = matMul(tf.softmax(scores), heads(v)); // [B, H, T, hd]
  return linear(p, y.transpose([0, 2, 1, 3]).reshape([B * T, D]), `${h}.attn.c_proj`);
}

function mlp(p: ParamGetter, x: tf.Tensor, h: string): tf.Tensor {
  return linear(p, geluNew(linear(p, x, `${h}.mlp.c_fc`)), `${h}.mlp.c_proj`);
}

/** GPT-2's "gelu_new": the tanh approximation of GELU. */
export function geluNew(x: tf.Tensor): tf.Tensor {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}

/**
 * Additive attention bias: 0 where query i may look at key j (j <= i and key j is not
 * padding), -1e9 elsewhere. Shape [1 or B, 1, T, T], broadcast over heads.
 */
function attentionBias(T: number, attentionMask?: tf.Tensor2D): tf.Tensor {
  let allowed: tf.Tensor = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).reshape([1, 1, T, T]);
  if (attentionMask) {
    const keys = attentionMask.toFloat().reshape([attentionMask.shape[0], 1, 1, T]);
    allowed = allowed.mul(keys);
  }
  return allowed.sub(1).mul(1e9);
}
