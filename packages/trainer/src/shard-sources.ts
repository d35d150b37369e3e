/**
 * The token data `hunch shards` writes (shards.ts), tokenised exactly as the Node trainer
 * tokenises it: Hunch events as `hunch train` reads them (event-corpus.ts, the latest
 * sessions held out), or a research dataset as `hunch benchmark` trains on it (its training
 * split and research vocabulary, so `hunch eval` scores the resulting checkpoint).
 */
import { trainingSplit } from './benchmark.js';
import { researchVocabulary } from './benchmark-evaluation.js';
import { loadBenchmarkData, type BenchmarkInput } from './eval/benchmark-data.js';
import { readEventCorpus } from './event-corpus.js';
import type { EventSource } from './event-source.js';
import type { TokenData } from './shards.js';

/** Hunch events -> [BOS]-first sequences of at most `context` tokens after it, `validationShare` of the sessions held out. */
export async function eventTokenData(events: string | EventSource, options: { context: number; validationShare: number }): Promise<TokenData & { skipped: number }> {
  const corpus = await readEventCorpus(events, options);
  return {
    vocabulary: corpus.vocabulary,
    itemCounts: corpus.itemCounts,
    events: corpus.events,
    train: corpus.train,
    validation: corpus.validation,
    // As `hunch train` validates (train-events.ts).
    validationScoring: { minPosition: 1, lastOnly: false, excludeSeen: false },
    skipped: corpus.skipped,
  };
}

/** A research dataset -> `hunch benchmark`'s training and validation sequences. */
export async function benchmarkTokenData(input: BenchmarkInput): Promise<TokenData> {
  const data = await loadBenchmarkData(input);
  const { fit, validation } = trainingSplit(data);
  return {
    vocabulary: researchVocabulary(data.items.rawIds),
    itemCounts: Object.fromEntries(data.items.rawIds.map((raw, i) => [raw, data.popularity[i]!])),
    events: data.train.totalLength,
    train: fit,
    validation: validation.sequences,
    validationScoring: { minPosition: validation.minPosition ?? 1, lastOnly: validation.lastOnly ?? false, excludeSeen: validation.excludeSeen ?? false },
  };
}
