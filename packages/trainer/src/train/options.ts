/** The options every training run takes (train-sequences.ts, train-events.ts extend them). */
export interface TrainOptions {
  /** Architecture: transformer blocks, n_embd and attention heads. */
  layers: number;
  embd: number;
  heads: number;
  /** n_positions: the longest input. */
  context: number;
  epochs: number;
  /** Padded input positions per step (B x T), about. */
  batchTokens: number;
  /** Peak learning rate. */
  lr: number;
  weightDecay: number;
  dropout: number;
  seed: number;
  /** 1 = in this thread; 2 = two worker_threads, each half the batch. */
  workers: number;
  /** The built train-worker.js (default: next to the trainer's module). */
  workerScript?: string | URL;
  /** Stop after this many steps of this call, as a kill would (tests of the saved state). */
  stopAfter?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}
