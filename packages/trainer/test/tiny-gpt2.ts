/**
 * A tiny Hugging Face GPT-2 directory, laid out as the real `gpt2` repo is (tensor names
 * without the `transformer.` prefix, the causal-mask buffers, no separate LM head unless
 * asked; a byte-level BPE tokenizer.json with "a b" merges and <|endoftext|> last), with
 * random weights: a stand-in for a download that is not possible here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { byteAlphabet, learnMerges } from '@hunch/core';
import { Rng } from '../src/lib/prng.js';
import { parameterShapes, type GPT2Config } from '../src/model.js';
import { encodeSafetensors, type TensorMap } from '../src/safetensors.js';

export interface TinyGpt2 {
  dir: string;
  config: GPT2Config;
  /** Token strings by id. */
  tokens: string[];
  /** wte as written, [V, D]. */
  wte: Float32Array;
}

/** Text the toy tokenizer's merges are learned from: shop words, so searches split into real pieces. */
const CORPUS = 'green tea mug mugs red blue white black shoe shoes running trail coffee cup cups teapot the a and for with of best cheap';

export async function writeTinyGpt2(dir: string, options: { seed: number; nPositions: number; lmHead?: boolean }): Promise<TinyGpt2> {
  const rng = new Rng(options.seed);
  const merges = learnMerges([[CORPUS, 5], ['tea für zwei', 2]], 120, 1);
  // Ids in a seeded order (as arbitrary as GPT-2's), <|endoftext|> last as in GPT-2.
  const tokens = [...rng.shuffle([...byteAlphabet(), ...merges.map(([a, b]) => a + b)]), '<|endoftext|>'];
  const V = tokens.length;
  const config: GPT2Config = { vocabSize: V, nPositions: options.nPositions, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
  const tensors: TensorMap = new Map();
  for (const [name, shape] of parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    const std = name.endsWith('.bias') ? 0.02 : 0.1;
    for (let i = 0; i < data.length; i++) data[i] = gain + rng.normal() * std;
    tensors.set(name.replace(/^transformer\./, ''), { shape, data });
    // The causal mask buffer older GPT-2 files carry after each block's ln_1.
    if (name.endsWith('.ln_1.bias')) {
      const P = options.nPositions;
      const mask = new Float32Array(P * P).map((_, i) => (i % P <= Math.floor(i / P) ? 1 : 0));
      tensors.set(name.replace(/^transformer\./, '').replace('ln_1.bias', 'attn.bias'), { shape: [1, 1, P, P], data: mask });
    }
  }
  const wte = tensors.get('wte.weight')!.data;
  if (options.lmHead) tensors.set('lm_head.weight', { shape: [V, 16], data: Float32Array.from(wte) });

  const hfConfig = {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: V,
    n_positions: options.nPositions,
    n_ctx: options.nPositions,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    bos_token_id: V - 1,
    eos_token_id: V - 1,
  };
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: V - 1, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, add_prefix_space: true, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(tokens.slice(0, -1).map((token, id) => [token, id])),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(hfConfig));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  return { dir, config, tokens, wte };
}
