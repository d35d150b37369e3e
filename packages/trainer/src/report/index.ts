/**
 * `hunch report`: experiments' uplift from collected events. `experimentReport` reads events
 * (any order) and returns the report; `reportText` and `reportHtml` render it. Bad input (no
 * exposures, an experiment with one arm, an unknown `experiment`) throws a one-line ReportError.
 */
import { EXPOSURE_EVENT, type HunchEvent } from '@hunch/core';
import { analyzeExperiment } from './analyze.js';
import { Attributor, type Attribution } from './attribution.js';
import { checkOptions, PLANNED_SHOPPERS, ReportError, type ReportOptions } from './options.js';
import type { ExperimentReport, ExperimentsReport, SkippedExperiment } from './types.js';

export { Attributor } from './attribution.js';
export type { Attribution } from './attribution.js';
export { reportHtml } from './html.js';
export { CONTROL_PREFERENCE, HOLDOUT_KEY, parseSplit, PLANNED_SHOPPERS, ReportError } from './options.js';
export type { ReportOptions } from './options.js';
export { reportText } from './text.js';
export type * from './types.js';

const quoted = (key: string) => JSON.stringify(key);

/** The report of an attribution (what `experimentReport` does once the events are read). */
export function reportFromAttribution(attribution: Attribution, options: ReportOptions = {}): ExperimentsReport {
  checkOptions(options);
  if (attribution.exposures === 0) {
    throw new ReportError(
      `no ${EXPOSURE_EVENT} events: nothing is exposed yet (${attribution.events.toLocaleString('en-US')} events read; the SDK logs one when a shopper sees an experiment's treatment)`,
    );
  }
  const experiments: ExperimentReport[] = [];
  const skipped: SkippedExperiment[] = [];
  const wanted = options.experiment;
  if (wanted !== undefined && !attribution.experiments.some((e) => e.key === wanted)) {
    throw new ReportError(`experiment ${quoted(wanted)} not found; experiments in the data: ${attribution.experiments.map((e) => quoted(e.key)).join(', ')}`);
  }
  for (const e of attribution.experiments) {
    if (wanted !== undefined && e.key !== wanted) {
      skipped.push({ key: e.key, reason: `not asked for (--experiment ${wanted})`, exposures: e.exposures, variants: e.variants });
      continue;
    }
    const result = analyzeExperiment(e, options, attribution.lastEvent, wanted !== undefined);
    if ('reason' in result) {
      if (wanted !== undefined) throw new ReportError(`experiment ${quoted(e.key)} has ${result.reason}`);
      skipped.push(result);
    } else experiments.push(result);
  }
  if (experiments.length === 0) {
    throw new ReportError(`no experiment has two arms to compare: ${skipped.map((s) => `${quoted(s.key)} has ${s.reason}`).join('; ')}`);
  }
  const alpha = options.alpha ?? 0.05;
  return {
    generatedAt: new Date(options.now ?? Date.now()).toISOString(),
    source: options.source ?? null,
    alpha,
    events: attribution.events,
    exposureEvents: attribution.exposures,
    experiments,
    skipped,
    notes: [
      `${Math.round(100 * (1 - alpha))}% intervals; the shopper is the unit (a shopper's arm is the variant of their first exposure; outcomes from then on).`,
      'Relative lifts by the delta method on log(treatment / control) (asymmetric intervals, sound with few events), click-through rates by the delta method; CUPED uses each metric\'s pre-exposure value.',
      `Always-valid intervals (mSPRT, normal mixture) hold however often the report is read; they are tuned to be narrowest at the planned ${(options.plannedShoppers ?? PLANNED_SHOPPERS).toLocaleString('en-US')} shoppers per arm (--plan), where they are about 1.5x the fixed interval.`,
      'Funnel steps count shoppers who did each after exposure, each on its own (not nested).',
    ],
  };
}

/**
 * The report of every experiment in `events` (or only `options.experiment`). Throws a
 * ReportError, one line, on bad input.
 */
export async function experimentReport(events: AsyncIterable<HunchEvent> | Iterable<HunchEvent>, options: ReportOptions = {}): Promise<ExperimentsReport> {
  checkOptions(options);
  const attributor = new Attributor();
  for await (const event of events) attributor.add(event);
  return reportFromAttribution(attributor.finish(), options);
}
