/**
 * GPT-2 in TensorFlow.js, written to be read top to bottom like nanoGPT:
 * token + position embeddings, pre-LayerNorm blocks (attention, then MLP, each with a
 * residual), a final LayerNorm and an LM head tied to the token embedding.
 * Parameters carry their Hugging Face names and shapes, so a checkpoint is a
 * GPT2LMHeadModel without any renaming.
 *
 * wasm-backend notes (see ENVIRONMENT.md): the embedding lookup is a one-hot matmul
 * because tf.gather's gradient needs UnsortedSegmentSum, which wasm lacks (fine at a
 * vocabulary of ~100; a large vocabulary would want a ScatterNd custom gradient), and
 * transposes are explicit because transposed BatchMatMul is >10x slower there.
 * tf.oneHot with a float32 dtype returns garbage on wasm (tfjs 4.22: int bits read as
 * float), so one-hot vectors are made as int32 and cast.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './lib/prng.js';
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

export class GPT2 {
  readonly config: GPT2Config;
  /** Trainable variables by Hugging Face name. */
  readonly variables: Map<string, tf.Variable>;

  constructor(config: GPT2Config, weights: TensorMap) {
    if (config.nEmbd % config.nHead !== 0) throw new Error('n_embd must be divisible by n_head');
    this.config = config;
    this.variables = new Map();
    for (const [name, shape] of parameterShapes(config)) {
      const tensor = weights.get(name);
      if (!tensor) throw new Error(`missing tensor ${name}`);
      if (tensor.shape.join(',') !== shape.join(',')) {
        throw new Error(`tensor ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      this.variables.set(name, tf.variable(tf.tensor(tensor.data, shape, 'float32'), true, name));
    }
  }

  private p(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /**
   * Logits [B, T, V] for token ids [B, T] (int32). `attentionMask` [B, T] (1 = real token,
   * 0 = padding) hides padded keys, exactly as the exported ONNX graph does.
   */
  forward(ids: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      const { vocabSize: V, nEmbd: D, nLayer } = this.config;
      if (T > this.config.nPositions) throw new Error(`sequence of ${T} tokens exceeds the context of ${this.config.nPositions}`);
      const wte = this.p('transformer.wte.weight');

      // Embeddings: one-hot matmul (see the note at the top) plus learned positions 0..T-1.
      const oneHot = tf.oneHot(ids.reshape([B * T]), V).toFloat();
      const tokens = tf.matMul(oneHot, wte).reshape([B, T, D]);
      const positions = this.p('transformer.wpe.weight').slice([0, 0], [T, D]);
      let x: tf.Tensor = tokens.add(positions).reshape([B * T, D]);

      const maskBias = attentionBias(T, attentionMask);
      for (let i = 0; i < nLayer; i++) {
        const h = `transformer.h.${i}`;
        x = x.add(this.attention(this.layerNorm(x, `${h}.ln_1`), h, B, T, maskBias));
        x = x.add(this.mlp(this.layerNorm(x, `${h}.ln_2`), h));
      }
      x = this.layerNorm(x, 'transformer.ln_f');

      // Tied LM head: logits = h · wteᵀ.
      return tf.matMul(x, tf.transpose(wte)).reshape([B, T, V]) as tf.Tensor3D;
    });
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = x.sub(mean).mul(tf.rsqrt(variance.add(this.config.layerNormEpsilon)));
    return normed.mul(this.p(`${prefix}.weight`)).add(this.p(`${prefix}.bias`));
  }

  private linear(x: tf.Tensor, prefix: string): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, this.p(`${prefix}.weight`) as tf.Tensor2D).add(this.p(`${prefix}.bias`));
  }

  /** Causal multi-head self-attention on x [B*T, D]. */
  private attention(x: tf.Tensor, h: string, B: number, T: number, maskBias: tf.Tensor): tf.Tensor {
    const { nEmbd: D, nHead: H } = this.config;
    const hd = D / H;
    const [q, k, v] = tf.split(this.linear(x, `${h}.attn.c_attn`), 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const heads = (t: tf.Tensor) => t.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]); // [B, H, T, hd]
    const kT = k.reshape([B, T, H, hd]).transpose([0, 2, 3, 1]); // [B, H, hd, T]
    const scores = tf.matMul(heads(q), kT).mul(1 / Math.sqrt(hd)).add(maskBias);
    const y = tf.matMul(tf.softmax(scores), heads(v)); // [B, H, T, hd]
    return this.linear(y.transpose([0, 2, 1, 3]).reshape([B * T, D]), `${h}.attn.c_proj`);
  }

  private mlp(x: tf.Tensor, h: string): tf.Tensor {
    return this.linear(geluNew(this.linear(x, `${h}.mlp.c_fc`)), `${h}.mlp.c_proj`);
  }

  /**
   * Mean cross-entropy of predicting targets [B, T] from ids [B, T]; targets equal to
   * [PAD] (id 0) are ignored.
   *
   * With `next`, adds the next-item objective: at every position, a softmax over item
   * tokens only (`itemBias` [V]: 0 for items, -1e9 otherwise) should pick the next item
   * the shopper looks at (`next.items` [B, T], 0 where none follows). The plain LM
   * softmax after an item token is about the next *action*, so it leaves the ranking
   * among items untrained; this makes "rank items after any history" meaningful. Being
   * a softmax over items alone, it does not fight the LM objective.
   */
  lossParts(
    ids: tf.Tensor2D,
    targets: tf.Tensor2D,
    next?: { items: tf.Tensor2D; itemBias: tf.Tensor1D },
  ): { lm: tf.Scalar; item?: tf.Scalar } {
    return tf.tidy(() => {
      const V = this.config.vocabSize;
      const logits = this.forward(ids).reshape([-1, V]);
      const crossEntropy = (logProbs: tf.Tensor, target: tf.Tensor2D) => {
        const flat = target.reshape([-1]);
        const nll = tf.neg(tf.sum(logProbs.mul(tf.oneHot(flat, V).toFloat()), -1));
        const keep = tf.notEqual(flat, 0).toFloat();
        return nll.mul(keep).sum().div(tf.maximum(keep.sum(), 1)) as tf.Scalar;
      };
      const lm = crossEntropy(tf.logSoftmax(logits), targets);
      if (!next) return { lm };
      return { lm, item: crossEntropy(tf.logSoftmax(logits.add(next.itemBias)), next.items) };
    });
  }

  /** The training objective: LM loss, plus the next-item loss when `next` is given. */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, next?: { items: tf.Tensor2D; itemBias: tf.Tensor1D }): tf.Scalar {
    return tf.tidy(() => {
      const { lm, item } = this.lossParts(ids, targets, next);
      return item ? lm.add(item) : lm;
    });
  }

  /** Current weights as plain arrays, by Hugging Face name. */
  weights(): TensorMap {
    const out: TensorMap = new Map();
    for (const [name, variable] of this.variables) {
      out.set(name, { shape: [...variable.shape], data: Float32Array.from(variable.dataSync() as Float32Array) });
    }
    return out;
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
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
