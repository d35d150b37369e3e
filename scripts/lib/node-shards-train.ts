/**
 * For `npm run bench:torch`: the Node trainer (train-sequences.ts, the Diginetica recipe of
 * `hunch benchmark`) on token shards (`hunch shards`), so both trainers train on the same
 * sequences; writes the checkpoint when asked. Bundled by the benchmark script with esbuild.
 */
import { ITEM_OFFSET } from '../../packages/trainer/src/benchmark-evaluation.js';
import { DIGINETICA_RECIPE } from '../../packages/trainer/src/benchmark.js';
import { writeNextItemCheckpoint } from '../../packages/trainer/src/next-item/checkpoint.js';
import { readShards } from '../../packages/trainer/src/shards.js';
import { trainSequences } from '../../packages/trainer/src/train-sequences.js';

export interface NodeShardsRun {
  shards: string;
  workers: number;
  workerScript: string;
  /** Stop after this many steps (throughput), or train for this many seconds (quality). */
  steps?: number;
  seconds?: number;
  out?: string;
  log: (line: string) => void;
}

export async function trainNodeOnShards(run: NodeShardsRun) {
  const { manifest, train } = await readShards(run.shards);
  const V = manifest.vocabulary.length;
  const isItem = Uint8Array.from({ length: V }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));
  const trained = await trainSequences(train, { vocabSize: V, isItem }, {
    ...DIGINETICA_RECIPE,
    seed: 1,
    workers: run.workers,
    workerScript: new URL(`file://${run.workerScript}`),
    ...(run.steps ? { stopAfter: run.steps } : {}),
    ...(run.seconds ? { timeBudget: { seconds: run.seconds } } : {}),
    log: run.log,
  });
  if (run.out) {
    const { config, heads, weights } = trained;
    await writeNextItemCheckpoint(run.out, { config, heads, weights, vocabulary: manifest.vocabulary }, {
      itemCounts: manifest.itemCounts,
      training: { events: manifest.events, sequences: train.length, steps: trained.steps, finalLoss: trained.history.at(-1)?.loss ?? NaN, seed: 1, skippedLines: 0, batch: DIGINETICA_RECIPE.batchTokens, learningRate: DIGINETICA_RECIPE.lr, seconds: trained.seconds, tokensPerSecond: trained.tokensPerSecond },
    });
  }
  return { steps: trained.steps, seconds: trained.seconds, tokensPerSecond: trained.tokensPerSecond };
}
