/**
 * The events a retraining learns from and the latest sessions it judges on, apart: one pass
 * over the source orders the sessions by start time, the latest sessions with something to
 * predict are held out, and two filtered views of the same source give the rest (training)
 * and the held-out sessions (evaluation). The held-out sessions never reach training, its
 * early stopping included, so the candidate is not chosen on the data that judges it.
 */
import { isBehaviourEvent } from '@hunch/core';
import { SessionStarts } from '../event-corpus.js';
import type { EventSource, ScanReport } from '../event-source.js';
import { MIN_TRAIN_SESSIONS } from '../train-events.js';

/** Share of the sessions with 2 or more events, the latest, held out by default. */
export const DEFAULT_HOLDOUT_SHARE = 0.1;

/**
 * The fewest held-out sessions (of 2 or more events): a session of the demo shop holds about
 * five next items to predict, so 20 give the comparison about a hundred examples. Fewer, and
 * MRR@20 moves by several points from one session to the next: the decision would be chance.
 */
export const MIN_HOLDOUT_SESSIONS = 20;

/** The fewest sessions of 2 or more events a retraining needs: the held-out ones and what `hunch train` needs besides. */
export const MIN_RETRAIN_SESSIONS = MIN_HOLDOUT_SESSIONS + MIN_TRAIN_SESSIONS;

/**
 * The largest share of invalid rows skipped and counted rather than refused. One broken
 * upload should not stop a scheduled run; more than this says something upstream is broken
 * (a changed schema, a wrong file, a damaged database), and what is left is no sample to
 * ship a model from.
 */
export const MAX_INVALID_SHARE = 0.01;

export interface Holdout {
  /** The pass's count of valid and skipped rows. */
  scan: ScanReport;
  /** Sessions with a behaviour event, and those of 2 or more events. */
  sessions: number;
  learnableSessions: number;
  /** Ids of the held-out sessions. */
  heldOut: ReadonlySet<string>;
  training: EventSource;
  evaluation: EventSource;
}

/** Held-out sessions out of `learnable` (those of 2 or more events): the share, at least the minimum. */
export const holdoutCount = (learnable: number, share: number): number => Math.max(MIN_HOLDOUT_SESSIONS, Math.ceil(learnable * share));

/** A source of the events of the sessions `keep` accepts (validation as the source's; skipped rows are the source's). */
function sessionsOf(source: EventSource, name: string, keep: (sessionId: string) => boolean): EventSource {
  return {
    name,
    async scan(onEvent) {
      return source.scan((event) => {
        if (keep(event.sessionId)) onEvent(event);
      });
    },
  };
}

/**
 * Splits `source` by session start time (ties: first seen first). Throws a one-line reason
 * when the source is corrupted (more than MAX_INVALID_SHARE of its rows invalid, or no valid
 * row) or too small (fewer than MIN_RETRAIN_SESSIONS sessions of 2 or more events).
 */
export async function splitHoldout(source: EventSource, share = DEFAULT_HOLDOUT_SHARE): Promise<Holdout> {
  if (!(share > 0 && share < 1)) throw new Error(`the held-out share must be between 0 and 1, got ${share}`);
  const starts = new SessionStarts();
  let scan: ScanReport;
  try {
    scan = await source.scan((event) => {
      if (isBehaviourEvent(event.name)) starts.add(event);
    });
  } catch (error) {
    throw new Error(`cannot read ${source.name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const rows = scan.events + scan.skipped;
  if (scan.skipped > 0 && (scan.events === 0 || scan.skipped > rows * MAX_INVALID_SHARE)) {
    const first = scan.skippedLines.map(({ line, error }) => `row ${line}: ${error}`).join('; ');
    throw new CorruptedEvents(
      `${source.name} looks corrupted: ${scan.skipped} of its ${rows} rows are not valid events (more than ${MAX_INVALID_SHARE * 100}% are refused, fewer are skipped); first: ${first}`,
    );
  }
  const learnable = starts.byStart().filter((id) => starts.isLearnable(id));
  if (learnable.length < MIN_RETRAIN_SESSIONS) {
    throw new TooLittleData(
      `${source.name} is too little to retrain on: ${learnable.length} sessions of 2 or more events (of ${starts.sessions.size}); retraining needs at least ${MIN_RETRAIN_SESSIONS}: ` +
        `${MIN_HOLDOUT_SESSIONS} held out to compare the models on, ${MIN_TRAIN_SESSIONS} to train on`,
    );
  }
  const held = Math.min(holdoutCount(learnable.length, share), learnable.length - MIN_TRAIN_SESSIONS);
  const heldOut = new Set(learnable.slice(learnable.length - held));
  return {
    scan,
    sessions: starts.sessions.size,
    learnableSessions: learnable.length,
    heldOut,
    training: sessionsOf(source, source.name, (id) => !heldOut.has(id)),
    evaluation: sessionsOf(source, `${source.name} (held-out sessions)`, (id) => heldOut.has(id)),
  };
}

/** The events are not fit to learn from: the run refuses. */
export class CorruptedEvents extends Error {}
/** Too few sessions to train and to judge: the run refuses. */
export class TooLittleData extends Error {}
