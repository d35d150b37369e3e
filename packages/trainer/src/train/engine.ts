/**
 * Where the gradients and the evaluations of a training run are computed: in this thread,
 * or split over worker_threads (train-worker.ts) that read the weights from the shared
 * parameter buffer the main thread updates.
 */
import { Worker } from 'node:worker_threads';
import { mergeMetrics, type RankMetrics } from '../eval/metrics.js';
import type { GPT2Config } from '../model.js';
import { shardGradients, type ShardInput, type ShardOutput } from '../next-item/loss.js';
import type { ParamLayout } from '../next-item/param-layout.js';
import { NextItemScorer, type EvalOptions } from '../next-item/scorer.js';

export interface Engine {
  compute(shards: ShardInput[]): Promise<ShardOutput[]>;
  /** Full-ranking metrics with the given (default: current) weights, split over the workers. */
  evaluate(sessions: ReadonlyArray<ArrayLike<number>>, options: EvalOptions, weights?: Float32Array): Promise<RankMetrics>;
  close(): Promise<void>;
}

export function localEngine(config: GPT2Config, layout: ParamLayout, params: Float32Array, isItem: Uint8Array): Engine {
  return {
    compute: async (shards) => shards.map((s) => shardGradients(config, layout, params, isItem, s)),
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

/** `n` workers running `script` (the built train-worker.js) on the parameters in `shared`. */
export async function workerEngine(
  n: number,
  script: string | URL,
  config: GPT2Config,
  layout: ParamLayout,
  shared: SharedArrayBuffer,
  isItem: Uint8Array,
): Promise<Engine> {
  const workers = Array.from({ length: n }, () => new Worker(script, { workerData: { config, shapes: layout.shapes, params: shared, isItem } }));
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
    compute: (shards) => Promise.all(shards.map((s, i) => call<ShardOutput>(workers[i % n]!, s))),
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
