/**
 * `hunch retrain`: the scheduled refresh of a published model. Split the events (the latest
 * sessions held out, holdout.ts), fine-tune the live model on the rest (its vocabulary grown
 * with new items, actions and search pieces), score both models on the held-out sessions
 * (compare.ts), decide (decision.ts), and only then export and publish (publish.ts). Any
 * refusal leaves the live directory as it was: until the decision, everything is written to a
 * temporary folder outside it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vocabulary, type HunchManifest, type OnnxVariant } from '@hunch/core';
import { readBaseModel } from '../base-model.js';
import { writeCheckpoint } from '../checkpoint.js';
import { readEventCorpus } from '../event-corpus.js';
import type { EventSource } from '../event-source.js';
import { exportModel } from '../export.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents, type EventTrainOptions } from '../train-events.js';
import { scoreOnHeldOut, type HeldOutScore } from './compare.js';
import { decide, DEFAULT_TOLERANCE, type PairedDifference } from './decision.js';
import { splitHoldout, DEFAULT_HOLDOUT_SHARE } from './holdout.js';
import { publishModel, readManifestAt, withModelLock } from './publish.js';

export interface RetrainOptions {
  /** The published model directory (hunch.json and its files). */
  model: string;
  /** catalog.json of the products to show (default: the live model's, which lacks products it never saw). */
  catalog?: string;
  /** Minutes for the whole run. */
  timeBudget: number;
  /** On performance.now()'s clock (the CLI: 0). */
  startedAt?: number;
  holdoutShare?: number;
  tolerance?: number;
  /** Training options (the architecture and context are the live model's). */
  train?: Partial<Pick<EventTrainOptions, 'epochs' | 'lr' | 'seed' | 'workers' | 'batchTokens'>>;
  /** createdAt of the new hunch.json (default: now). */
  createdAt?: string;
  log: (line: string) => void;
}

/** A held-out score as printed: without the per-session sums. */
export type ReportedScore = Omit<HeldOutScore, 'reciprocalBySession'>;
const reported = ({ reciprocalBySession: _, ...score }: HeldOutScore): ReportedScore => score;

/** What `hunch retrain` prints as its last line. */
export interface RetrainReport {
  decision: 'published' | 'refused';
  reason: string;
  /** Both models' held-out scores, and the paired difference the decision read. */
  metrics: { candidate: ReportedScore; live: ReportedScore; paired?: PairedDifference } | null;
  counts: {
    events: number;
    invalidRows: number;
    sessions: number;
    learnableSessions: number;
    heldOutSessions: number;
    /** Tokens the candidate has beyond the live model's, and of them, items. */
    newTokens: number;
    newItems: number;
    trainingSteps: number;
  } | null;
  /** The version live when the run started, the one it published, and the one that published version replaced (kept for rollback). */
  versions: { live: string | null; published: string | null; previous: string | null };
  paths: { model: string; published: string | null; previous: string | null };
}

/** Share of the time budget kept back from training for scoring, export and publishing. */
const AFTER_TRAINING_SHARE = 0.15;

export async function retrain(events: EventSource, options: RetrainOptions): Promise<RetrainReport> {
  const startedAt = options.startedAt ?? performance.now();
  const live = await readManifestAt(options.model);
  const refused = (reason: string, rest: Partial<RetrainReport> = {}): RetrainReport => ({
    decision: 'refused',
    reason,
    metrics: null,
    counts: null,
    versions: { live: live.version, published: null, previous: null },
    paths: { model: options.model, published: null, previous: null },
    ...rest,
  });
  try {
    // Locked for the whole run: a second run would train from the same live model and its publish replace this one's.
    return await withModelLock(options.model, options.log, () => retrainFrom(events, live, options, startedAt, refused));
  } catch (error) {
    // Bad or too little data, a failed export: one line of why; the model served is unchanged.
    return refused((error as Error).message.split('\n')[0]!);
  }
}

async function retrainFrom(
  events: EventSource,
  live: HunchManifest,
  options: RetrainOptions,
  startedAt: number,
  refused: (reason: string, rest?: Partial<RetrainReport>) => RetrainReport,
): Promise<RetrainReport> {
  const { log } = options;
  const holdout = await splitHoldout(events, options.holdoutShare ?? DEFAULT_HOLDOUT_SHARE);
  if (holdout.scan.skipped > 0) log(`skipped ${holdout.scan.skipped} invalid row(s) of ${holdout.scan.events + holdout.scan.skipped}`);
  log(`${holdout.learnableSessions} sessions of 2 or more events: the latest ${holdout.heldOut.size} held out to compare the models on`);
  const base = await readBaseModel(options.model);
  const work = await mkdtemp(join(tmpdir(), 'hunch-retrain-'));
  try {
    const budget = options.timeBudget;
    const spent = (performance.now() - startedAt) / 60_000;
    const trainMinutes = Math.max(budget * (1 - AFTER_TRAINING_SHARE) - spent, 0.01);
    const { checkpoint, trained } = await trainEvents(holdout.training, {
      ...DEFAULT_EVENT_TRAIN_OPTIONS,
      ...options.train,
      context: base.config.nPositions,
      base,
      timeBudget: trainMinutes,
      log,
    });
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary, checkpoint.metadata.merges ?? []);
    const heldOut = await readEventCorpus(holdout.evaluation, { context: base.config.nPositions, validationShare: 0, vocabulary });
    const sequences = heldOut.train;
    const candidate = await scoreOnHeldOut(checkpoint, sequences, vocabulary.tokens, vocabulary.unk);
    const current = await scoreOnHeldOut(base, sequences, vocabulary.tokens, vocabulary.unk);
    const liveSize = base.config.vocabSize;
    const added = vocabulary.tokens.slice(liveSize);
    const counts: NonNullable<RetrainReport['counts']> = {
      events: holdout.scan.events,
      invalidRows: holdout.scan.skipped,
      sessions: holdout.sessions,
      learnableSessions: holdout.learnableSessions,
      heldOutSessions: holdout.heldOut.size,
      newTokens: added.length,
      newItems: vocabulary.items().filter(({ tokenId }) => tokenId >= liveSize).length,
      trainingSteps: trained.steps,
    };
    const decision = decide(candidate, current, options.tolerance ?? DEFAULT_TOLERANCE);
    const metrics = { candidate: reported(candidate), live: reported(current), ...(decision.paired ? { paired: decision.paired } : {}) };
    log(`held-out MRR@20: candidate ${candidate['MRR@20'].toFixed(4)}, live ${current['MRR@20'].toFixed(4)} (${candidate.examples} examples): ${decision.reason}`);
    if (!decision.publish) return refused(decision.reason, { metrics, counts });

    const checkpointDir = join(work, 'checkpoint');
    await writeCheckpoint(checkpointDir, checkpoint);
    const published = await publishModel(options.model, (out) =>
      exportModel({
        checkpoint: checkpointDir,
        catalog: options.catalog ?? join(options.model, 'catalog.json'),
        out,
        // The ONNX variants the live model ships, no more.
        ...(live.onnx ? { quant: Object.keys(live.onnx.variants) as OnnxVariant[] } : {}),
        ...(live.policy !== undefined ? { policy: join(options.model, live.policy) } : {}),
        ...(options.createdAt !== undefined ? { createdAt: options.createdAt } : {}),
      }),
    );
    return {
      decision: 'published',
      reason: decision.reason,
      metrics,
      counts,
      versions: { live: live.version, published: published.version, previous: published.previous.version },
      paths: { model: options.model, published: published.path, previous: published.previous.path },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
