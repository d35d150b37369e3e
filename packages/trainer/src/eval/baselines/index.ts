/** The baselines every model is reported beside: the datasets README's simple ones, and STAN, the strongest neighbourhood method. */
import type { SequenceSet } from '../../data/sequence-set.js';
import type { Recommender } from '../metrics.js';
import { MarkovRecommender } from './markov.js';
import { PopularityRecommender } from './popularity.js';
import { SknnRecommender } from './sknn.js';
import { StanRecommender } from './stan.js';

export const BASELINE_NAMES = ['popularity', 'markov', 'sknn', 'stan'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

/** A baseline with its default settings, fitted on dense training sequences. */
export function createBaseline(
  name: BaselineName,
  train: SequenceSet,
  numItems: number,
  popularity: ArrayLike<number>,
): Recommender {
  switch (name) {
    case 'popularity':
      return new PopularityRecommender(popularity);
    case 'markov':
      return new MarkovRecommender(train, numItems);
    case 'sknn':
      return new SknnRecommender(train, numItems);
    case 'stan':
      return new StanRecommender(train, numItems);
  }
}
