/**
 * @hunch/trainer: what the `hunch` CLI does, as functions (simulate, train, export,
 * benchmark, eval), with their options and results and the checkpoints they read and write.
 * The modules behind them are internal.
 */
export { readCatalog } from './catalog.js';
export { DEFAULT_SHOPPER_BEHAVIOUR, simulateEvents } from './simulate.js';
export type { MissionIntent, ShopperBehaviour, SimulateOptions } from './simulate.js';

export { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents } from './train-events.js';
export type { EventTrainOptions, EventTrainResult } from './train-events.js';
export type { TrainOptions } from './train/options.js';
export type { SequenceTrainResult } from './train-sequences.js';
export { ndjsonSource, storeSource } from './event-source.js';
export type { EventSource, ScanOptions, ScanReport } from './event-source.js';
export { readBaseModel } from './base-model.js';
export type { BaseModel } from './base-model.js';

export { readCheckpoint, writeCheckpoint } from './checkpoint.js';
export type { Checkpoint, CheckpointMetadata, LoadedCheckpoint, TrainingMetadata } from './checkpoint.js';
export type { GPT2Config } from './model.js';
export type { NamedTensor, TensorMap } from './safetensors.js';
export { rankNextItems } from './predict.js';
export type { RankOptions } from './predict.js';

export { exportModel, PURCHASE_FILE } from './export.js';
export { cutPoints, fitSessionPurchase, MIN_PURCHASE_SESSIONS } from './session-purchase.js';
export type { SessionPurchaseFit } from './session-purchase.js';
export type { ExportManifest, ExportOptions } from './export.js';

export { runBenchmark } from './benchmark.js';
export type { BenchmarkOptions, BenchmarkResult } from './benchmark.js';
export { evaluateCheckpoint } from './evaluate-checkpoint.js';
export type { EvaluateCheckpointOptions, EvaluateCheckpointResult } from './evaluate-checkpoint.js';
export { loadBenchmarkData } from './eval/benchmark-data.js';
export type { BenchmarkData, BenchmarkInput } from './eval/benchmark-data.js';
export { evaluateRecommender } from './eval/metrics.js';
export type { EvaluateOptions, Evaluation, Recommender } from './eval/metrics.js';
export type { Examples } from './eval/protocols.js';

/** Experiment statistics (lift, CUPED, SRM, always-valid intervals) and the shopper simulator whose truth is known. */
export * as experiments from './experiments/index.js';

/** `hunch report`: experiments' uplift from collected events, as data, text and a self-contained HTML page. */
export { experimentReport, parseSplit, ReportError, reportHtml, reportText } from './report/index.js';
export type { ExperimentReport, ExperimentsReport, ReportOptions } from './report/index.js';

/** Strategies: decisions from events, off-policy evaluation (IPS, SNIPS, DR), learned policies, the ship rule, and the strategy simulator whose truth is known. */
export * as strategies from './strategies/index.js';
export { dequantizePq, pqSubspaces, quantizePq, type PqOptions, type PqTable, type PqTimings } from './onnx/pq.js';
export { buildOnnxModel, exportedTable } from './onnx/gpt2.js';
