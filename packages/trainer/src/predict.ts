/**
 * Next-item ranking with the tfjs model: what the browser does with ONNX, here for
 * sanity checks after training (does the model pick up the shopper's category?).
 */
import * as tf from '@tensorflow/tfjs';
import { encodeHistory, type HunchEvent, type Vocabulary } from '@hunch/core';
import { useWasmBackend } from './backend.js';
import { GPT2, type GPT2Config } from './model.js';
import type { TensorMap } from './safetensors.js';

export interface RankOptions {
  /** Leave out items already in the history. Default false. */
  excludeSeen?: boolean;
}

/** Item ids ranked by the model's next-token logits after `history`, best first. */
export async function rankNextItems(
  config: GPT2Config,
  weights: TensorMap,
  vocabulary: Vocabulary,
  history: ReadonlyArray<Pick<HunchEvent, 'name' | 'params'>>,
  k: number,
  options: RankOptions = {},
): Promise<Array<{ itemId: string; logit: number }>> {
  await useWasmBackend();
  const ids = encodeHistory(history, vocabulary, config.nPositions);
  const seen = new Set(history.map((event) => event.params.item_id));
  const model = new GPT2(config, weights);
  try {
    const logits = tf.tidy(() => {
      const out = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'));
      return out.slice([0, ids.length - 1, 0], [1, 1, config.vocabSize]).dataSync() as Float32Array;
    });
    return vocabulary
      .items()
      .filter(({ itemId }) => !(options.excludeSeen && seen.has(itemId)))
      .map(({ tokenId, itemId }) => ({ itemId, logit: logits[tokenId]! }))
      .sort((a, b) => b.logit - a.logit)
      .slice(0, k);
  } finally {
    model.dispose();
  }
}
