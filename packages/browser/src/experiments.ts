/**
 * Experiments on the device: the shopper's anonymous id and their variant in each experiment,
 * synchronously (the loader answers experiment() before the SDK arrives, so nothing flickers).
 * The id is a random UUID kept in localStorage, made on first need and only with
 * personalization_storage consent; withdrawing that consent or forget() (in any tab) erases it.
 * Assignment is core's deterministic bucketing, so the same id gets the same variant on every
 * page, tab and visit. A global holdout (off unless the shop sets a share) keeps some shoppers
 * out of every experiment and of personalisation.
 */
// Core's assignment module itself, not '@hunch/core': the loader bundles this file and must not
// pull in the rest of core (rollup.parts.mjs checks).
import { assign, DEFAULT_HOLDOUT, HOLDOUT_ARMS, inHoldout, type HoldoutConfig } from '../../core/src/experiments/assignment.js';
import type { Consent } from './consent.js';
import { uuid } from './lib/ids.js';
import { logOnce } from './lib/log.js';
import { SHOPPER_KEY } from './lib/names.js';

export interface ExperimentOptions {
  /** Relative weights of the variants, in their order; default equal. */
  weights?: readonly number[];
  /** Share of (non-held-out) shoppers enrolled, in [0, 1]; default 1. */
  traffic?: number;
}

/**
 * The global holdout as an experiment of its own, for exposures: its key, and (core's
 * HOLDOUT_ARMS) the variant a shopper with an id is in (`hunch.expose(HOLDOUT_KEY, ...)` logs it; a
 * placement element does so for the first placement seen on a page). The report compares the two.
 */
export const HOLDOUT_KEY = DEFAULT_HOLDOUT.key;
export { HOLDOUT_ARMS };

/** Why experiment() returned null: no storage consent (so no id), the global holdout, or outside the traffic share. */
export type NotEnrolled = 'consent' | 'holdout' | 'traffic';

/** This page's experiment() answers, per experiment key: how often each variant, and each reason for null. */
export type ExperimentTally = Record<string, { variants: Record<string, number>; notEnrolled: Partial<Record<NotEnrolled, number>> }>;

export interface Experiments {
  /** The shopper's variant, or null when not enrolled; counted in the tally. */
  experiment(key: string, variants: readonly string[], options?: ExperimentOptions): string | null;
  /** The page's tally (a copy). */
  tally(): ExperimentTally;
  /** Whether this shopper is in the global holdout (never without consent: no id). */
  heldOut(): boolean;
  /**
   * What to expose for `key`: the variant experiment(key) last gave on this page (null: not
   * enrolled or no id now; undefined: not asked); for HOLDOUT_KEY, the shopper's HOLDOUT_ARMS
   * entry while the holdout is on and there is an id, else null.
   */
  variantOf(key: string): string | null | undefined;
}

/**
 * The shopper's id if there is one (never made here): what the uploader adds to events. Only in
 * the format core's event validation takes (an id edited by hand would get events rejected).
 */
export function storedShopperId(): string | undefined {
  try {
    const id = localStorage.getItem(SHOPPER_KEY);
    return id && /^[\w-]{8,64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The holdout config for a share: null (off) unless it is in (0, 1). */
export const holdoutOf = (share: number | undefined): HoldoutConfig | null => (share! > 0 && share! < 1 ? { key: DEFAULT_HOLDOUT.key, share: share! } : null);

/** The variant name for an id, or why none: the function experiment() uses, for tests over many ids. */
export function variantFor(id: string | undefined, key: string, variants: readonly string[], options: ExperimentOptions, holdout: HoldoutConfig | null): { variant: string } | { reason: NotEnrolled } {
  if (!id) return { reason: 'consent' };
  const result = assign(id, { key, weights: options.weights ?? variants.map(() => 1), traffic: options.traffic ?? 1 }, holdout);
  return result.enrolled ? { variant: variants[result.variant]! } : { reason: result.reason };
}

export function createExperiments(consent: Consent, holdoutShare?: number): Experiments {
  const holdout = holdoutOf(holdoutShare);
  const tally: ExperimentTally = {};
  const given = new Map<string, string | null>();
  const erase = () => {
    try {
      localStorage.removeItem(SHOPPER_KEY);
    } catch {
      // Site data blocked: nothing was stored.
    }
  };
  consent.onForget(erase);
  consent.subscribe((state) => state.personalization_storage === 'denied' && erase());

  /** The stored id, made now if there is none; undefined without storage consent (or storage). */
  const shopperId = (): string | undefined => {
    if (!consent.allows('storage')) return undefined;
    try {
      let id = localStorage.getItem(SHOPPER_KEY);
      if (!id) localStorage.setItem(SHOPPER_KEY, (id = uuid()));
      return id;
    } catch {
      return undefined;
    }
  };

  function heldOut(): boolean {
    if (!holdout) return false;
    const id = shopperId();
    return id !== undefined && inHoldout(id, holdout);
  }

  return {
    experiment(key, variants, options = {}) {
      let outcome: ReturnType<typeof variantFor>;
      try {
        if (variants.length === 0 || (options.weights && options.weights.length !== variants.length)) throw new Error(`experiment ${key}: one weight per variant`);
        outcome = variantFor(shopperId(), key, variants, options, holdout);
      } catch (error) {
        logOnce('experiment misconfigured', error);
        return null;
      }
      const entry = (tally[key] ??= { variants: {}, notEnrolled: {} });
      const [counts, name]: [Record<string, number>, string] = 'variant' in outcome ? [entry.variants, outcome.variant] : [entry.notEnrolled, outcome.reason];
      counts[name] = (counts[name] ?? 0) + 1;
      const variant = 'variant' in outcome ? outcome.variant : null;
      given.set(key, variant);
      return variant;
    },
    tally: () => structuredClone(tally),
    heldOut,
    variantOf(key) {
      // No id now (consent withdrawn, forget()): nothing to expose, whatever was given before.
      if (!storedShopperId()) return null;
      if (key !== HOLDOUT_KEY) return given.get(key);
      return holdout ? HOLDOUT_ARMS[heldOut() ? 0 : 1] : null;
    },
  };
}
