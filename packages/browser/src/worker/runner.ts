/**
 * What runs a loaded model's forward pass: onnxruntime-web's session (ort/runner.ts) or the
 * worker's own GPT-2 (gpt2/runner.ts). Both leave the last position's item logits and the
 * repeat bonus; loaded-model.ts forward() does the rest.
 */
import type { ItemScoring, ModelEngine } from './protocol.js';

/** The KV cache after a step: only the runner that made it reads it. */
export interface ModelCache {
  /** Frees what the cache holds (GPU buffers under WebGPU); a no-op where memory is collected. */
  dispose(): void;
}

/** Input rows for tokens after the vocabulary's (the catalog's new products, new-items/): int8, a scale per row, as the item table. */
export interface ExtraInputRows {
  rows: number;
  table: Int8Array;
  scales: Float32Array;
}

export interface RunnerStep {
  cache: ModelCache;
  /** The repeat head's output at the last position (hunch.json onnx.repeat), when the model has one. */
  repeat: number | undefined;
  /** The last position's query for the item table (what the item head scores), when the runner has it: valid until the next step. */
  query?: Float32Array;
}

export interface ModelRunner {
  engine: ModelEngine;
  itemScoring: ItemScoring;
  /** Whether its steps return the query (RunnerStep.query): the new products (new-items/) are scored from it. */
  returnsQuery: boolean;
  /** How many logits a step writes, when the runner knows it at load (its own item table): checked against the vocabulary. */
  scoredTokens: number | undefined;
  /**
   * Runs `newTokens` after `past` (the cache of the context's first `contextLength - newTokens.length`
   * tokens; none: from scratch) and writes the last position's logits into `into`. `past` is
   * not used again by the caller: a runner may extend it in place.
   */
  step(newTokens: readonly number[], contextLength: number, past: ModelCache | undefined, into: Float32Array): Promise<RunnerStep>;
  /**
   * Takes the catalog's new products (their composed rows, tokens from the vocabulary's size on)
   * as inputs too, where the runner can: a history that names them then feeds their vectors.
   * Absent (onnxruntime: its graph embeds token ids only): their views stay the unknown token.
   */
  embedNewItems?(rows: ExtraInputRows): void;
  dispose(): Promise<void>;
}
