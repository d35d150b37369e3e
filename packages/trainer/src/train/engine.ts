/**
 * Where the gradients, the optimizer's updates and the evaluations of a training run are
 * computed: in this thread, or split over worker_threads (train-worker.ts) that read the
 * weights from the shared parameter buffer and each apply the AdamW update to their own
 * part of it (the gradients and the moments are shared too).
 */
import { Worker } from 'node:worker_threads';
import { mergeMetrics, type RankMetrics } from '../eval/metrics.js';
import type { GPT2Config } from '../model.js';
import { shardGradients, type ShardInput, type ShardOutput } from '../next-item/loss.js';
import type { ParamLayout } from '../next-item/param-layout.js';
import { NextItemScorer, type EvalOptions } from '../next-item/scorer.js';
import { applyAdamW, type AdamWState, type AdamWUpdate } from './optimizer.js';
import { packShard } from './shard-message.js';

export interface Engine {
  /** Each shard's loss and gradients, as each is done. */
  compute(shards: ShardInput[]): Array<Promise<ShardOutput>>;
  /** Applies an AdamW update (optimizer.ts) to the parameters from the gradients the engine was given. */
  update(update: AdamWUpdate): Promise<void>;
  /** Full-ranking metrics with the given (default: current) weights, split over the workers. */
  evaluate(sessions: ReadonlyArray<ArrayLike<number>>, options: EvalOptions, weights?: Float32Array): Promise<RankMetrics>;
  close(): Promise<void>;
}

/** The optimizer's state and the gradient array its updates read. */
export interface EngineOptimizer {
  state: AdamWState;
  grads: Float32Array;
}

export function localEngine(config: GPT2Config, layout: ParamLayout, params: Float32Array, isItem: Uint8Array, optimizer: EngineOptimizer): Engine {
  return {
    compute: (shards) => shards.map(async (s) => shardGradients(config, layout, params, isItem, s)),
    update: async (update) => applyAdamW(optimizer.state, params, optimizer.grads, update),
    evaluate: async (sessions, options, weights) => {
      const scorer = new NextItemScorer(config, layout.toTensorMap(weights ?? params), isItem);
      try {
        return scorer.evaluate(sessions, options);
      } finally {
        scorer.dispose();
      }
    },
    close: async () => {},
  };
}

/**
 * `n` workers running `script` (the built train-worker.js) on the parameters in `shared`;
 * worker i applies the updates to its i-th of the parameters (the optimizer's arrays must be
 * SharedArrayBuffer-backed).
 */
export async function workerEngine(
  n: number,
  script: string | URL,
  config: GPT2Config,
  layout: ParamLayout,
  shared: SharedArrayBuffer,
  isItem: Uint8Array,
  optimizer: EngineOptimizer,
): Promise<Engine> {
  const { m, v, segments, options } = optimizer.state;
  const adam = { m: m.buffer, v: v.buffer, grads: optimizer.grads.buffer, segments, options };
  const workers = Array.from(
    { length: n },
    (_, i) =>
      new Worker(script, {
        workerData: { config, shapes: layout.shapes, params: shared, isItem, adam, range: [Math.floor((i * layout.size) / n), Math.floor(((i + 1) * layout.size) / n)] },
      }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: { ready?: boolean }) => (m.ready ? resolve() : reject(new Error('worker failed to start'))));
          w.once('error', reject);
        }),
    ),
  );
  const call = <R>(w: Worker, message: unknown) =>
    new Promise<R>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      w.once('error', onError);
      w.once('message', (m: { error?: string; out?: R; metrics?: R }) => {
        w.off('error', onError);
        if (m.error) reject(new Error(m.error));
        else resolve((m.out ?? m.metrics)!);
      });
      w.postMessage(message);
    });
  return {
    compute: (shards) => shards.map((s, i) => call<ShardOutput>(workers[i % n]!, packShard(s))),
    update: async (update) => {
      await Promise.all(workers.map((w) => call<true>(w, { update })));
    },
    evaluate: async (sessions, options, weights) => {
      const parts = workers.map((w, i) =>
        call<RankMetrics>(w, { eval: { sessions: sessions.filter((_, j) => j % n === i).map((s) => Array.from(s)), options, params: weights } }),
      );
      return mergeMetrics(await Promise.all(parts));
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
