/**
 * Hunch never throws into the shop's page: failures degrade to a fallback and are
 * logged once per kind, so a broken model does not flood the console.
 */
const logged = new Set<string>();

export function logOnce(kind: string, error: unknown): void {
  if (logged.has(kind)) return;
  logged.add(kind);
  const message = error instanceof Error ? error.message : String(error);
  console.warn(`[hunch] ${kind}: ${message}`);
}
