/**
 * The policy a strategy decides by: `policy.json` beside the model's hunch.json (core's PolicyFile,
 * written by the trainer), read once per page. None there (404) means nothing has been learned
 * yet: the choice is uniform over the eligible actions, the exploring policy the first one is
 * learned from. A file that cannot be read or does not validate decides nothing (`none`), with
 * one console warning: a broken policy never turns into random offers.
 */
import { validatePolicy, type PolicyFile } from '@hunch/core';
import type { ActionDeclaration } from './declarations.js';

export const POLICY_FILE = 'policy.json';

/** The policy, null when there is none (uniform), or why it cannot be used. */
export type LoadedPolicy = { ok: true; policy: PolicyFile | null } | { ok: false; error: string };

export async function loadPolicy(modelUrl: string): Promise<LoadedPolicy> {
  try {
    const response = await fetch(new URL(POLICY_FILE, modelUrl), { credentials: 'same-origin' });
    if (response.status === 404 || response.status === 410) return { ok: true, policy: null };
    if (!response.ok) return { ok: false, error: `${POLICY_FILE}: HTTP ${response.status}` };
    const checked = validatePolicy(await response.json());
    return checked.ok ? { ok: true, policy: checked.policy } : { ok: false, error: `${POLICY_FILE}: ${checked.error}` };
  } catch (error) {
    return { ok: false, error: `${POLICY_FILE}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Why `policy` does not fit strategy `name` as the page declares it (every declared action and none must have a model), or undefined. */
export function mismatch(policy: PolicyFile, name: string, actions: readonly ActionDeclaration[]): string | undefined {
  const models = policy.strategies[name]?.actions;
  if (!models) return `the policy ${policy.id} has no strategy ${name}`;
  const missing = actions.map((action) => action.id).filter((id) => !models[id]);
  if (missing.length > 0) return `the policy ${policy.id} has no model for ${missing.join(', ')} of strategy ${name}`;
  return undefined;
}
