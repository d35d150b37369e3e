/**
 * One simulated experiment on a population: shoppers are assigned through the SDK's own
 * assignment (@hunch/core), every shopper's outcomes are computed under every arm with the same
 * random numbers (potential outcomes), and each enrolled shopper is observed under their own
 * arm. The truth is then exact for this very sample: the mean over all enrolled shoppers of
 * what they would have done under each arm.
 */
import { assign, DEFAULT_HOLDOUT, type HoldoutConfig } from '@hunch/core';
import { emptyOutcomes, type ResponseModel, type ShopperOutcomes } from './responses.js';
import type { ShopperPopulation } from './simulate-shoppers.js';

export interface Arm<Shown> {
  name: string;
  /** Configured weight: what the analysis (and the SRM check) expects. */
  weight: number;
  shown: Shown;
}

/** What assignment needs of a population: its shoppers' ids. */
export interface Enrollable {
  size: number;
  ids: readonly string[];
}

export interface ExperimentSimulation<Shown, Population extends Enrollable = ShopperPopulation> {
  population: Population;
  /** The experiment's key: its hash seed. */
  key: string;
  arms: readonly Arm<Shown>[];
  response: ResponseModel<Shown, Population>;
  /** Share of non-held-out shoppers enrolled (default 1). */
  traffic?: number;
  /** Default DEFAULT_HOLDOUT (10%); null for none. */
  holdout?: HoldoutConfig | null;
  /** Weights actually used to assign, to inject an imbalance (e.g. [52, 48] against configured [1, 1]). */
  assignWeights?: readonly number[];
}

export interface SimulatedExperiment {
  /** Each shopper's arm; -1 when not enrolled (held out, or outside the traffic). */
  arm: Int8Array;
  /** Enrolled shoppers per arm. */
  counts: number[];
  /** `potential[a]`: every shopper's outcomes had they been shown arm a. */
  potential: ShopperOutcomes[];
  /** Every shopper's outcomes under their own arm (arm 0's for shoppers not enrolled). */
  observed: ShopperOutcomes;
}

/** Each shopper's arm through @hunch/core's assignment (-1: not enrolled). */
export function assignPopulation(
  ids: readonly string[],
  experiment: { key: string; weights: readonly number[]; traffic?: number },
  holdout: HoldoutConfig | null = DEFAULT_HOLDOUT,
): Int8Array {
  const arm = new Int8Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const a = assign(ids[i]!, experiment, holdout);
    arm[i] = a.enrolled ? a.variant : -1;
  }
  return arm;
}

export function simulateExperiment<Shown, Population extends Enrollable = ShopperPopulation>(sim: ExperimentSimulation<Shown, Population>): SimulatedExperiment {
  const { population: pop, arms } = sim;
  const weights = sim.assignWeights ?? arms.map((a) => a.weight);
  if (weights.length !== arms.length) throw new Error('assignWeights needs one weight per arm');
  const arm = assignPopulation(pop.ids, { key: sim.key, weights, traffic: sim.traffic ?? 1 }, sim.holdout === undefined ? DEFAULT_HOLDOUT : sim.holdout);
  const potential = arms.map((a) => {
    const out = emptyOutcomes(pop.size);
    sim.response(pop, a.shown, out);
    return out;
  });
  const counts = new Array<number>(arms.length).fill(0);
  for (let i = 0; i < pop.size; i++) if (arm[i]! >= 0) counts[arm[i]!]!++;
  const observed = emptyOutcomes(pop.size);
  for (const column of Object.keys(observed) as Array<keyof ShopperOutcomes>) {
    const to = observed[column];
    for (let i = 0; i < pop.size; i++) to[i] = potential[Math.max(0, arm[i]!)]![column][i]!;
  }
  return { arm, counts, potential, observed };
}

/** The exact per-arm mean of a metric over every enrolled shopper (all arms' shoppers, each arm's potential outcome). */
export function trueMeans(experiment: SimulatedExperiment, metric: keyof ShopperOutcomes): number[] {
  return experiment.potential.map((outcomes) => {
    let sum = 0, n = 0;
    for (let i = 0; i < experiment.arm.length; i++) {
      if (experiment.arm[i]! < 0) continue;
      sum += outcomes[metric][i]!;
      n++;
    }
    return sum / n;
  });
}

/** The exact per-arm ratio of sums (e.g. clicks / impressions) over every enrolled shopper. */
export function trueRatios(experiment: SimulatedExperiment, numerator: keyof ShopperOutcomes, denominator: keyof ShopperOutcomes): number[] {
  return experiment.potential.map((outcomes) => {
    let num = 0, den = 0;
    for (let i = 0; i < experiment.arm.length; i++) {
      if (experiment.arm[i]! < 0) continue;
      num += outcomes[numerator][i]!;
      den += outcomes[denominator][i]!;
    }
    return num / den;
  });
}
