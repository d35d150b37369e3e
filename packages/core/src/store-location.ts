/**
 * How a `--db` / `--from` location names the collector's store, shared by the collector (which
 * opens it) and the trainer's commands (which choose how to read a location): a postgres:// or
 * postgresql:// URL is PostgreSQL; anything else is a file (SQLite, or NDJSON where accepted).
 */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:/i.test(location);

/** The location as it may be printed: a URL without its password. */
export function locationName(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const parsed = new URL(location);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return location.replace(/:[^:@/]*@/, '@');
  }
}
