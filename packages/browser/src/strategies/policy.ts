/**
 * The policy a strategy decides by: core's PolicyFile, shipped with the model (`hunch export
 * --policy`): hunch.json names it (`policy`) and lists its SHA-256 and size in `files`, like every
 * other model file. Read once per page, and only when hunch.json names one: without, nothing has
 * been learned yet and nothing is requested; the choice is uniform over the eligible actions, the
 * exploring policy the first one is learned from. A policy whose bytes differ from what hunch.json
 * lists (the SDK's model-file check, Web Crypto), that cannot be read or does not validate, or a
 * hunch.json that cannot be read, decides nothing (`none`), with one console warning: a broken or
 * tampered policy never turns into random offers.
 */
import { MANIFEST_FILE, parseManifest, validatePolicy, type HunchManifest, type PolicyFile } from '@hunch/core';
import { cachedManifest, verifiedModelFile } from '../worker/model-files.js';
import type { ActionDeclaration } from './declarations.js';

/** The policy, null when there is none (uniform), or why it cannot be used. */
export type LoadedPolicy = { ok: true; policy: PolicyFile | null } | { ok: false; error: string };

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * hunch.json as the page reads it for the policy: through the HTTP cache (the worker revalidates
 * it on each load; a fresh copy costs no request), else the copy kept with the cached model
 * files (offline).
 */
async function pageManifest(modelUrl: string): Promise<HunchManifest> {
  try {
    const response = await fetch(new URL(MANIFEST_FILE, modelUrl), { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${MANIFEST_FILE}: HTTP ${response.status}`);
    return parseManifest(await response.json());
  } catch (error) {
    const cached = await cachedManifest(modelUrl).then((json) => (json ? parseManifest(json) : undefined)).catch(() => undefined);
    if (cached) return cached;
    throw error;
  }
}

export async function loadPolicy(modelUrl: string): Promise<LoadedPolicy> {
  let manifest: HunchManifest;
  try {
    manifest = await pageManifest(modelUrl);
  } catch (error) {
    return { ok: false, error: `no policy can be read: ${message(error)}` };
  }
  const path = manifest.policy;
  if (path === undefined) return { ok: true, policy: null };
  try {
    // Checked as the worker checks the model's files (hash required); the page leaves the cache to the worker.
    const bytes = await verifiedModelFile(modelUrl, path, manifest.files[path]!, { keep: false });
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
