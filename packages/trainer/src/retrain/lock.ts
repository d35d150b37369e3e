/**
 * One `hunch retrain` or `hunch rollback` at a time per model directory. Two overlapping
 * runs (a slow cron job and the next one, a rollback during a retrain) would each start from
 * the same live model and the later publish would silently replace the earlier. The lock is
 * proper-lockfile's: a folder created atomically, its mtime refreshed while the run lasts,
 * so the lock of a run that was killed goes stale and is taken over.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/** A lock not refreshed for this long belongs to a run that died: the next run takes it. */
export const STALE_LOCK_MS = 5 * 60_000;

/** The lock of `dir` (a model's versions folder): a dot-folder, so never taken for a version. */
export const lockPathOf = (dir: string) => join(dir, '.lock');

/**
 * Runs `run` holding `dir`'s lock (creating `dir`); throws one line, without running it,
 * when another run holds it. Losing the lock midway (its folder removed or taken over) is
 * logged; the run goes on, since publishing checks every file it installs.
 */
export async function withDirectoryLock<T>(dir: string, log: (line: string) => void, run: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  const lockfilePath = lockPathOf(dir);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath,
      stale: STALE_LOCK_MS,
      update: STALE_LOCK_MS / 5,
      realpath: false,
      onCompromised: (error) => log(`the lock ${lockfilePath} was lost: ${error.message}`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new Error(`another hunch retrain or rollback holds ${lockfilePath} (a lock left by a killed run goes stale after ${STALE_LOCK_MS / 60_000} minutes)`);
  }
  try {
    return await run();
  } finally {
    await release().catch(() => undefined);
  }
}
