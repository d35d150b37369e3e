/** Experiment statistics: per-arm estimates, lift, ratio metrics, SRM, CUPED and always-valid intervals. */
export { chiSquareSf, normalCdf, normalQuantile, twoSidedP, zFor } from './distributions.js';
export { addShopper, covarianceXY, emptyMoments, meanX, meanY, mergeMoments, momentsOf, varianceX, varianceY } from './moments.js';
export type { Moments } from './moments.js';
export { armMoments, cumulativeDailyMoments } from './arm-moments.js';
export type { ArmRows } from './arm-moments.js';
export { interval, meanEstimate } from './estimate.js';
export type { Estimate, Interval } from './estimate.js';
export { absoluteLift, lift, relativeLift } from './lift.js';
export type { Lift } from './lift.js';
export { ratioEstimate } from './ratio-metric.js';
export { sampleRatioMismatch, SRM_THRESHOLD } from './srm.js';
export type { SrmResult } from './srm.js';
export { cuped } from './cuped.js';
export type { CupedResult } from './cuped.js';
export { confidenceSequence, mixingVariance, mixtureLikelihoodRatio, optimalMixingRatio } from './sequential.js';
