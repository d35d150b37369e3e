/** Progress lines of a training run: readable in a log as on a terminal. */

/** `[#######.............]  35%`: how far a run is. */
export function progressBar(done: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(done * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(done * 100)).padStart(3)}%`;
}

/** `45s`, `3m07s`. */
export const formatDuration = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);
