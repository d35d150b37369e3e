/**
 * Trusted Types: a page that sends `require-trusted-types-for 'script'` refuses a plain string
 * as a script URL (new Worker, new SharedWorker, script.src, importScripts). The SDK hands its
 * worker URLs over as TrustedScriptURLs from a policy of its own, named `hunch` (the name the
 * shop lists in `trusted-types hunch`, README "Content Security Policy"), created on first use
 * and only where the browser has Trusted Types. The policy lets through only what a worker URL
 * built by the SDK is: an http(s) URL of this page's origin (hunch.worker.js beside the SDK, or
 * the shop's configured workerUrl); never a blob:, data: or javascript: URL, nor another
 * origin's script. (`import()` is no Trusted Types sink: the loader's import of hunch.sdk.js
 * and the worker's of its onnxruntime module need no policy.)
 */

/** The policy's name, for the shop's `trusted-types` directive. */
export const TRUSTED_TYPES_POLICY = 'hunch';

interface ScriptUrlPolicy {
  createScriptURL(url: string): unknown;
}
type PolicyFactory = { createPolicy(name: string, rules: { createScriptURL(url: string): string }): ScriptUrlPolicy };

/** undefined: not made yet; null: no Trusted Types here, or the page refused the policy (strings then). */
let policy: ScriptUrlPolicy | null | undefined;

/** `url`, made absolute, when it is an http(s) URL of this page's origin; throws otherwise. */
function checkScriptUrl(url: string): string {
  const { origin, href } = self.location;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url, href);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.origin !== origin) {
    throw new TypeError(`Hunch's Trusted Types policy "${TRUSTED_TYPES_POLICY}" refuses the script URL ${url}: only http(s) URLs of ${origin}`);
  }
  return parsed.href;
}

/**
 * The URL of one of the SDK's workers, as a Worker or SharedWorker takes it: a TrustedScriptURL
 * where Trusted Types exist, else the string (also when the page's `trusted-types` directive
 * does not list `hunch`: without enforcement a string still works; with it, the worker's start
 * fails and the SDK falls back to popular items, as without the policy).
 */
export function workerScriptUrl(url: string): string {
  if (policy === undefined) {
    const factory = (globalThis as { trustedTypes?: PolicyFactory }).trustedTypes;
    try {
      policy = factory?.createPolicy(TRUSTED_TYPES_POLICY, { createScriptURL: (input) => checkScriptUrl(input) }) ?? null;
    } catch {
      policy = null; // refused by the page's `trusted-types` directive (or a second copy of the SDK made it first)
    }
  }
  // A TrustedScriptURL goes wherever a script URL string does (the DOM types do not know it).
  return policy ? (policy.createScriptURL(url) as string) : url;
}
