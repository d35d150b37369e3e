/**
 * `hunch policy`: learn a policy from uploaded decision logs, estimate it and the current one off
 * policy, and apply the ship rule. The CLI parses flags, prints and writes; this does the work.
 * Decisions must carry `params.features` (see logs.ts).
 */
import { readFile } from 'node:fs/promises';
import { validatePolicy, type PolicyFile } from '@hunch/core';
import { readDecisionLog, type DecisionLogReport } from './logs.js';
import { CROSS_FIT_SHIP_RULE, learnAndCheck, SHIP_RULE, type ShipCheck } from './ship.js';
import type { ActionCosts } from './records.js';

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
  let read;
  try {
    read = await readDecisionLog(options.from, options.costs ?? {});
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new PolicyError(`cannot read ${options.from}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  const { records, report } = read;
  if (records.length < 50) {
    throw new PolicyError(
      `${options.from}: ${records.length} learnable decisions (${report.decisions} decision events, ${report.withoutFeatures} without params.features); at least 50 are needed`,
    );
  }
  let result;
  try {
    result = learnAndCheck(records, {
      id: options.id ?? `learned-${records.length}`,
      current,
      ...(options.epsilon === undefined ? {} : { epsilon: options.epsilon }),
      ...(options.checkShare === undefined ? {} : { checkShare: options.checkShare }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
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
  };
}

const f = (x: number) => x.toFixed(3);
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const row = (name: string, e: { value: number; low: number; high: number }) => `  ${name.padEnd(6)} ${f(e.value).padStart(9)}  [${f(e.low)}, ${f(e.high)}]`;

/** The comparison as text lines. */
export function policyText(result: PolicyCommandResult): string {
  const { check, log } = result;
  const lines = [
    `read ${log.events} events: ${log.decisions} decisions (${log.records} learnable, ${log.withoutFeatures} without features, ${log.inferredEligible} with eligible actions inferred), ${log.purchases} purchases${log.invalid ? `, ${log.invalid} invalid lines skipped` : ''}`,
    result.crossFit
      ? `learned ${result.policy.id} (ε ${round4(result.policy.epsilon)}) on all ${result.learnedOn} decisions; checked cross-fitted on ${result.checkedOn} (each half by the policy learned on the other)`
      : `learned ${result.policy.id} (ε ${round4(result.policy.epsilon)}) on ${result.learnedOn} decisions; checked on ${result.checkedOn} others`,
    `value per decision (95% intervals)   candidate ${result.policy.id}${result.crossFit ? ' (cross-fitted: both halves pooled)' : ''}`,
    row('IPS', check.candidate.ips),
    row('SNIPS', check.candidate.snips),
    row('DR', check.candidate.dr),
    `                                     current ${result.current}`,
    row('IPS', check.current.ips),
    row('SNIPS', check.current.snips),
    row('DR', check.current.dr),
    `gain (candidate − current), DR:  ${f(check.gain.value)}  [${f(check.gain.low)}, ${f(check.gain.high)}]`,
    `rule: ${result.rule}`,
    result.reason,
  ];
  return `${lines.join('\n')}\n`;
}
