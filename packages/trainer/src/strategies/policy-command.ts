/**
 * `hunch policy`: learn a policy from uploaded decision logs, estimate it and the current one off
 * policy, and apply the ship rule. The CLI parses flags, prints and writes; this does the work.
 * Decisions must carry `params.features` (see logs.ts). The policy is learned for, and checked
 * on, one reward (`reward`: net by default); the report adds every outcome's estimates (click,
 * add to cart, conversion, revenue, net) for both policies.
 */
import { readFile } from 'node:fs/promises';
import { isPostgresUrl, locationName, validatePolicy, type PolicyFile } from '@hunch/core';
import { readDecisionLog, type DecisionLogReport } from './logs.js';
import { CROSS_FIT_SHIP_RULE, learnAndCheck, SHIP_RULE, type ShipCheck } from './ship.js';
import { evaluateOutcomes, type OutcomeEstimates } from './ope.js';
import { withReward, type ActionCosts, type RewardKind } from './records.js';

/** Bad input (no file, no learnable decisions, a current policy that does not parse): one line, exit 1. */
export class PolicyError extends Error {}

export interface PolicyCommandOptions {
  from: string;
  /** The deployed policy file; absent: uniform exploration (no policy yet). */
  current?: string;
  costs?: ActionCosts;
  epsilon?: number;
  id?: string;
  checkShare?: number;
  seed?: number;
  /** What the policy is learned for and checked on (default `net`: revenue less the action's cost). */
  reward?: RewardKind;
}

export interface PolicyCommandResult {
  log: DecisionLogReport;
  policy: PolicyFile;
  current: string;
  check: Omit<ShipCheck, 'reason'>;
  learnedOn: number;
  checkedOn: number;
  /** Cross-fitted check (each half read by the policy learned on the other; the policy written is learned on all). */
  crossFit: boolean;
  ship: boolean;
  rule: string;
  reason: string;
  /** The reward the policy was learned for and the ship rule checked. */
  reward: RewardKind;
  /**
   * Every outcome per decision (IPS, SNIPS, DR with intervals) of the candidate and of the current
   * policy, on the decisions the ship rule read, each read by the policy that read it there
   * (learned as the candidate was, on the other decisions).
   */
  outcomes: { candidate: OutcomeEstimates; current: OutcomeEstimates };
}

async function readCurrent(path: string): Promise<PolicyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PolicyError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PolicyError(`${path} is not JSON`);
  }
  const checked = validatePolicy(parsed);
  if (!checked.ok) throw new PolicyError(`${path}: ${checked.error}`);
  return checked.policy;
}

export async function policyFromLogs(options: PolicyCommandOptions): Promise<PolicyCommandResult> {
  const current = options.current === undefined ? null : await readCurrent(options.current);
  const from = locationName(options.from);
  let read;
  try {
    read = await readDecisionLog(options.from, options.costs ?? {});
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // The collector's own errors for a database already name it (without its password).
    if (isPostgresUrl(options.from)) throw new PolicyError(e.message);
    throw new PolicyError(`cannot read ${from}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  const { records, report } = read;
  if (records.length < 50) {
    throw new PolicyError(
      `${from}: ${records.length} learnable decisions (${report.decisions} decision events, ${report.withoutFeatures} without params.features); at least 50 are needed`,
    );
  }
  const reward = options.reward ?? 'net';
  let result;
  let outcomes: PolicyCommandResult['outcomes'];
  try {
    result = learnAndCheck(withReward(records, reward), {
      id: options.id ?? `learned-${records.length}`,
      current,
      ...(options.epsilon === undefined ? {} : { epsilon: options.epsilon }),
      ...(options.checkShare === undefined ? {} : { checkShare: options.checkShare }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    // The decisions the ship rule read, each by the policy that read it there (cross-fitted: learned without it).
    const read = result.halves ?? [];
    const checked = read.flatMap((half) => half.records);
    const readers = read.flatMap((half) => half.records.map(() => half.policy));
    const [candidate, deployed] = evaluateOutcomes(checked, [(_, i) => readers[i]!, current]);
    outcomes = { candidate: candidate!, current: deployed! };
  } catch (error) {
    throw new PolicyError((error as Error).message);
  }
  const { reason, ...check } = result.check;
  return {
    log: report,
    policy: result.policy,
    current: current ? current.id : 'uniform',
    check,
    learnedOn: result.learnedOn,
    checkedOn: result.checkedOn,
    crossFit: result.crossFit,
    ship: result.check.ship,
    rule: result.crossFit ? `${SHIP_RULE}; ${CROSS_FIT_SHIP_RULE}` : SHIP_RULE,
    reason,
    reward,
    outcomes,
  };
}

const f = (x: number) => x.toFixed(3);
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const row = (name: string, e: { value: number; low: number; high: number }) => `  ${name.padEnd(6)} ${f(e.value).padStart(9)}  [${f(e.low)}, ${f(e.high)}]`;
const cell = (e: { value: number; low: number; high: number }) => `${f(e.value).padStart(8)} [${f(e.low)}, ${f(e.high)}]`.padEnd(30);
const OUTCOME_ROWS: Array<[RewardKind, string]> = [
  ['click', 'click rate'],
  ['add_to_cart', 'add-to-cart rate'],
  ['conversion', 'conversion'],
  ['revenue', 'revenue'],
  ['net', 'net'],
];

/** The comparison as text lines. */
export function policyText(result: PolicyCommandResult): string {
  const { check, log } = result;
  const head = `value per decision, ${result.reward} (--reward; 95% intervals)   `;
  const lines = [
    `read ${log.events} events: ${log.decisions} decisions (${log.records} learnable, ${log.withoutFeatures} without features, ${log.inferredEligible} with eligible actions inferred), ${log.purchases} purchases, ${log.addToCarts} add-to-carts, ${log.clicks} clicks on actions${log.invalid ? `, ${log.invalid} invalid lines skipped` : ''}`,
    result.crossFit
      ? `learned ${result.policy.id} (ε ${round4(result.policy.epsilon)}) on all ${result.learnedOn} decisions; checked cross-fitted on ${result.checkedOn} (each half by the policy learned on the other)`
      : `learned ${result.policy.id} (ε ${round4(result.policy.epsilon)}) on ${result.learnedOn} decisions; checked on ${result.checkedOn} others`,
    `${head}candidate ${result.policy.id}${result.crossFit ? ' (cross-fitted: both halves pooled)' : ''}`,
    row('IPS', check.candidate.ips),
    row('SNIPS', check.candidate.snips),
    row('DR', check.candidate.dr),
    `${' '.repeat(head.length)}current ${result.current}`,
    row('IPS', check.current.ips),
    row('SNIPS', check.current.snips),
    row('DR', check.current.dr),
    `gain (candidate − current), DR:  ${f(check.gain.value)}  [${f(check.gain.low)}, ${f(check.gain.high)}]`,
    `each outcome per decision, DR (95% intervals; on the ${result.checkedOn} decisions checked, the candidate cross-fitted as above)`,
    `  ${''.padEnd(17)} ${`candidate ${result.policy.id}`.padEnd(30)} current ${result.current}`,
    ...OUTCOME_ROWS.map(([kind, name]) => `  ${`${name}${kind === result.reward ? ' *' : ''}`.padEnd(17)} ${cell(result.outcomes.candidate[kind].dr)} ${cell(result.outcomes.current[kind].dr).trimEnd()}`),
    `  (* the reward learned for)`,
    `rule: ${result.rule}`,
    result.reason,
  ];
  return `${lines.join('\n')}\n`;
}
