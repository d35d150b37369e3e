/**
 * Strategies in the trainer: decisions read from uploaded events, off-policy evaluation of any
 * policy (IPS, SNIPS, doubly robust, with intervals), policies learned from per-action outcome
 * models, the ship rule, and a shop simulator whose strategy truth is known.
 */
export { decisionReward, outcomeValue, parseCosts, parseRewardKind, REWARD_KINDS, withReward } from './records.js';
export type { ActionCosts, DecisionOutcomes, DecisionRecord, RewardKind } from './records.js';
export { DecisionLog, readDecisionLog } from './logs.js';
export type { DecisionLogReport } from './logs.js';
export { addRow, emptyNormalEquations, solveRidge } from './ridge.js';
export type { NormalEquations } from './ridge.js';
export { crossFittedPredictions, DEFAULT_LAMBDA, fitValueModels, strategyActions } from './value-models.js';
export type { ValueModelOptions, ValueModels } from './value-models.js';
export { comparePolicies, estimatorTerms, evaluateOutcomes, evaluatePolicy, loggedIndex, meanInterval, snipsInterval, targetProbabilities } from './ope.js';
export type { EstimatorTerms, EvaluateOptions, OutcomeEstimates, PolicyEstimates, PolicyReader, TargetPolicy } from './ope.js';
export { adaptiveEpsilon, DEFAULT_EPSILON, learnPolicy, MIN_EPSILON } from './learn.js';
export type { LearnOptions } from './learn.js';
export { CROSS_FIT_SHIP_RULE, learnAndCheck, MIN_FRESH, SHIP_RULE, shipCheck } from './ship.js';
export type { LearnAndCheck, LearnAndCheckOptions, ShipCheck } from './ship.js';
export { alwaysPolicy, cartNudgeRules, rulePolicy } from './rules.js';
export type { FeatureWeights } from './rules.js';
export {
  decisionEvents,
  DEFAULT_STRATEGY_SHOP,
  logDecisions,
  oracleValue,
  response,
  SIM_ACTIONS,
  SIM_CLICKS,
  SIM_STRATEGY,
  simulatedCosts,
  simulateShoppers,
  truePolicyValue,
} from './simulator.js';
export type { PolicyTruth, SimAction, SimDecision, SimShopper, StrategyShopModel } from './simulator.js';
export { PolicyError, policyFromLogs, policyText } from './policy-command.js';
export type { PolicyCommandOptions, PolicyCommandResult } from './policy-command.js';
