/**
 * `hunch eval`: a saved next-item checkpoint (e.g. `hunch benchmark --out`) evaluated on a
 * research dataset by full ranking under its protocol, with the baselines in the same run.
 * The evaluation is benchmark-evaluation.ts's, as the benchmark's is, so the figures equal
 * those the benchmark printed for the same model and data.
 */
import { useTfBackend } from './backend.js';
import { evaluateBaselines, evaluateNextItemModel, parameterCount, researchVocabulary } from './benchmark-evaluation.js';
import type { BenchmarkResult } from './benchmark.js';
import { describeData, loadBenchmarkData, type BenchmarkData, type BenchmarkInput } from './eval/benchmark-data.js';
import { readNextItemCheckpoint } from './next-item/checkpoint.js';

export interface EvaluateCheckpointOptions {
  /** The checkpoint directory. */
  model: string;
  /** Receives every test example's top-20 raw item ids, in the protocol's order. */
  onPredictions?: (topRawIds: string[]) => void;
  log: (line: string) => void;
}

export type EvaluateCheckpointResult = Pick<BenchmarkResult, 'model' | 'baselines' | 'params' | 'examples' | 'unknown_examples' | 'items' | 'skipped'>;

/**
 * Throws (one line) unless the checkpoint's token ids are the dataset's items in the
 * order the benchmark gives them: any other model would be scored against wrong items.
 */
export function checkVocabulary(dir: string, vocabulary: readonly string[], data: BenchmarkData): void {
  const expected = researchVocabulary(data.items.rawIds).tokens;
  const items = (tokens: readonly string[]) => tokens.length - (expected.length - data.items.size);
  if (vocabulary.length !== expected.length) {
    throw new Error(`${dir} was trained on other items: ${items(vocabulary)} items in the checkpoint, ${data.items.size} in the data`);
  }
  const at = expected.findIndex((token, id) => vocabulary[id] !== token);
  if (at >= 0) throw new Error(`${dir} was trained on other items: token ${at} is ${JSON.stringify(vocabulary[at])} in the checkpoint, ${JSON.stringify(expected[at])} in the data`);
}

export async function evaluateCheckpoint(input: BenchmarkInput, options: EvaluateCheckpointOptions): Promise<EvaluateCheckpointResult> {
  const { log } = options;
  // Read and check the checkpoint before the (possibly large) data.
  const model = await readNextItemCheckpoint(options.model);
  const data = await loadBenchmarkData(input);
  checkVocabulary(options.model, model.vocabulary, data);
  await useTfBackend({ log });
  log(describeData(data));
  const baselines = await evaluateBaselines(data, log);
  const evaluation = await evaluateNextItemModel(data, model, { ...(options.onPredictions ? { onPredictions: options.onPredictions } : {}), log });
  return {
    model: evaluation.metrics,
    baselines,
    params: parameterCount(model.weights),
    examples: evaluation.examples,
    unknown_examples: evaluation.unknown,
    items: data.items.size,
    skipped: data.skipped,
  };
}
