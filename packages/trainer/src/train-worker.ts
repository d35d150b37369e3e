/**
 * A data-parallel training worker (worker_threads): holds its own tfjs backend (the
 * main thread's choice, backend.ts: env and installed packages are the same here),
 * reads the current weights from the shared parameter buffer, answers each shard with its
 * loss and gradients (next-item/loss.ts), and applies the AdamW update to its range of the
 * shared parameters from the shared summed gradients (train/optimizer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { useTfBackend } from './backend.js';
import type { GPT2Config } from './model.js';
import { shardGradients } from './next-item/loss.js';
import { ParamLayout } from './next-item/param-layout.js';
import { NextItemScorer, type EvalOptions } from './next-item/scorer.js';
import { applyAdamW, type AdamWOptions, type AdamWUpdate, type Segment } from './train/optimizer.js';
import { unpackShard, type ShardMessage } from './train/shard-message.js';

const { config, shapes, params, isItem, adam, range } = workerData as {
  config: GPT2Config;
  shapes: Array<[string, number[]]>;
  params: SharedArrayBuffer;
  isItem: Uint8Array;
  adam: { m: SharedArrayBuffer; v: SharedArrayBuffer; grads: SharedArrayBuffer; segments: Segment[]; options: AdamWOptions };
  range: [number, number];
};
const layout = new ParamLayout(shapes);
const flat = new Float32Array(params);
const adamState = { m: new Float32Array(adam.m), v: new Float32Array(adam.v), segments: adam.segments, options: adam.options };
const grads = new Float32Array(adam.grads);
const port = parentPort!;

useTfBackend().then(
  () => {
    port.on('message', (message: ShardMessage | { eval: { sessions: number[][]; options: EvalOptions; params?: Float32Array } } | { update: AdamWUpdate }) => {
      if ('update' in message) {
        try {
          applyAdamW(adamState, flat, grads, message.update, range[0], range[1]);
          port.postMessage({ out: true });
        } catch (error) {
          port.postMessage({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
        }
        return;
      }
      if ('eval' in message) {
        // Full-ranking evaluation of some sessions with the current (or given) weights.
        try {
          const scorer = new NextItemScorer(config, layout.toTensorMap(message.eval.params ?? flat), isItem);
          try {
            port.postMessage({ metrics: scorer.evaluate(message.eval.sessions, message.eval.options) });
          } finally {
            scorer.dispose();
          }
        } catch (error) {
          port.postMessage({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
        }
        return;
      }
      try {
        const out = shardGradients(config, layout, flat, isItem, unpackShard(message));
        const transfer = [out.wteGrad.buffer, ...(out.biasGrad ? [out.biasGrad.buffer] : []), ...[...out.dense.values()].map((g) => g.buffer)];
        port.postMessage({ out }, [...new Set(transfer)] as ArrayBuffer[]);
      } catch (error) {
        port.postMessage({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
      }
    });
    port.postMessage({ ready: true });
  },
  (error) => port.postMessage({ error: String(error) }),
);
