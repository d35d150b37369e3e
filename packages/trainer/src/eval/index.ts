/** Evaluation for `hunch benchmark`: research data, protocols, exact full-ranking metrics, baselines. */
export { fileError, readLines } from '../data/lines.js';
export type { NumberedLine } from '../data/lines.js';
export { compareRawIds, encodeSequences, ItemIndex } from '../data/item-index.js';
export type { EncodedSequences } from '../data/item-index.js';
export { readSequences, readSessions } from '../data/research.js';
export type { SequencesImport, SessionsImport, SkipReport } from '../data/research.js';
export { countItems, SequenceSet, SequenceSetBuilder } from '../data/sequence-set.js';
export { leaveOneOut, sessionExamples } from './protocols.js';
export type { Examples, LeaveOneOutSplit } from './protocols.js';
export { Ranker, tieBreakRanks } from './ranking.js';
export { DEFAULT_KS, evaluate, MetricAccumulator } from './metrics.js';
export type { EvaluateOptions, Evaluation, Recommender } from './metrics.js';
export { describeData, loadBenchmarkData, loadLeaveOneOutBenchmark, loadSessionsBenchmark } from './benchmark-data.js';
export type { BenchmarkData, BenchmarkInput } from './benchmark-data.js';
export {
  BASELINE_NAMES,
  createBaseline,
  MarkovRecommender,
  PopularityRecommender,
  SknnRecommender,
} from './baselines/index.js';
export type { BaselineName, MarkovOptions, SknnOptions } from './baselines/index.js';
