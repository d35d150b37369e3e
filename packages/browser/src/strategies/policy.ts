/**
 * The policy a strategy decides by: core's PolicyFile, shipped with the model (`hunch export
 * --policy`): hunch.json names it (`policy`) and lists its SHA-256 and size in `files`, like every
 * other model file. Which file, and its hash, come from the model's worker, which reads hunch.json
 * anyway (the page never parses it while a worker runs: it holds the vocabulary, megabytes in a
 * big shop); only without a worker (no consent yet) does the page read hunch.json, as the catalog
 * does. Read once per page, and only when hunch.json names one: without, nothing has been learned
 * yet and nothing is requested; the choice is uniform over the eligible actions, the exploring
 * policy the first one is learned from. A policy whose bytes differ from what hunch.json
 * lists (the SDK's model-file check, Web Crypto), that cannot be read or does not validate, or a
 * hunch.json that cannot be read, decides nothing (`none`), with one console warning: a broken or
 * tampered policy never turns into random offers.
 */
import { validatePolicy, type PolicyFile } from '@hunch/core';
import { policyNamedBy, readManifest } from '../worker/manifest.js';
import { verifiedModelFile } from '../worker/model-files.js';
import type { PolicyAnswer } from '../worker/protocol.js';
import type { ActionDeclaration } from './declarations.js';

/** The policy, null when there is none (uniform), or why it cannot be used. */
export type LoadedPolicy = { ok: true; policy: PolicyFile | null } | { ok: false; error: string };

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The policy hunch.json names: from the worker when one runs (`fromWorker` answers undefined when none does), else read here. */
async function namedPolicy(modelUrl: string, fromWorker: () => Promise<PolicyAnswer | undefined>): Promise<PolicyAnswer> {
  const answer = await fromWorker();
  if (answer !== undefined) return answer;
  // As the catalog does without a worker (catalog.ts): the network, else the copy cached with the model.
  return policyNamedBy((await readManifest(modelUrl)).manifest);
}

export async function loadPolicy(modelUrl: string, fromWorker: () => Promise<PolicyAnswer | undefined> = async () => undefined): Promise<LoadedPolicy> {
  let named: PolicyAnswer;
  try {
    named = await namedPolicy(modelUrl, fromWorker);
  } catch (error) {
    return { ok: false, error: `no policy can be read: ${message(error)}` };
  }
  if (named === null) return { ok: true, policy: null };
  const { path, file } = named;
  try {
    // Checked as the worker checks the model's files (hash required); the page leaves the cache to the worker.
    const bytes = await verifiedModelFile(modelUrl, path, file, { keep: false });
    const checked = validatePolicy(JSON.parse(new TextDecoder().decode(bytes)));
    return checked.ok ? { ok: true, policy: checked.policy } : { ok: false, error: `${path}: ${checked.error}` };
  } catch (error) {
    return { ok: false, error: `${path}: ${message(error)}` };
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
