/**
 * Which web pages may upload: an allow-list of origins, matched exactly. `*` (any page) only
 * when configured explicitly. Credentials are never allowed: the SDK sends no cookies and the
 * collector needs none.
 */
import type { ServerResponse } from 'node:http';

export type OriginCheck =
  /** A request without Origin (a server, curl): CORS does not apply. */
  | { allowed: true; allowOrigin: undefined }
  | { allowed: true; allowOrigin: string }
  | { allowed: false };

/** Checks the configured entries: a typo such as a trailing slash would otherwise block every upload. */
export function checkAllowOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    if (origin === '*') return origin;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new Error(`allowed origin ${JSON.stringify(origin)} is not a URL origin (scheme://host[:port])`);
    }
    if (parsed.origin !== origin) {
      throw new Error(`allowed origin ${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path): did you mean ${JSON.stringify(parsed.origin)}?`);
    }
    return origin;
  });
}

export function originPolicy(allowOrigins: readonly string[]): (origin: string | undefined) => OriginCheck {
  const allowed = new Set(checkAllowOrigins(allowOrigins));
  const any = allowed.has('*');
  return (origin) => {
    if (origin === undefined) return { allowed: true, allowOrigin: undefined };
    if (allowed.has(origin)) return { allowed: true, allowOrigin: origin };
    if (any) return { allowed: true, allowOrigin: '*' };
    return { allowed: false };
  };
}

/** Headers on every answer to an allowed origin, so its page can read 413 and 429 too. */
export function setCorsHeaders(res: ServerResponse, allowOrigin: string): void {
  res.setHeader('Access-Control-Allow-Origin', allowOrigin);
  // The answer differs by Origin: caches must not serve one origin's answer to another.
  if (allowOrigin !== '*') res.setHeader('Vary', 'Origin');
  // Retry-After is not a CORS-safelisted header: without this the uploader cannot honour it.
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
}

/** The answer to a preflight (fetch with content-type application/json sends one). */
export function setPreflightHeaders(res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', 'POST');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Access-Control-Max-Age', '86400');
}
