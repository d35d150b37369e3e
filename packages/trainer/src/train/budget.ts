/**
 * A wall-clock time budget for training: how many steps fit, from the throughput measured on
 * the run's first steps (train-sequences.ts times them, and one validation), so that the
 * learning-rate schedule is laid over the steps the time allows instead of a fixed epoch
 * count. Pure arithmetic here; the measuring is the trainer's.
 */

/** `--time-budget` as given on a command line: minutes, a positive finite number, or a one-line error. */
export function parseTimeBudget(value: string): number {
  const minutes = Number(value);
  if (value.trim() === '' || !Number.isFinite(minutes) || minutes <= 0) {
    throw new Error(`--time-budget must be a positive number of minutes, got ${JSON.stringify(value)}`);
  }
  return minutes;
}

export interface BudgetMeasure {
  /** Seconds left for training (validations included) when the plan is made. */
  remaining: number;
  /** Measured seconds per training step. */
  secondsPerStep: number;
  /** Measured seconds per validation (0 without validation). */
  secondsPerEval: number;
  /** Steps already run. */
  done: number;
  /** The most steps the run may take (its epochs' batches). */
  cap: number;
  /** Validate every this many steps (0 = no validation). */
  every: number;
  /** At least this many validations over the run when it is short (default 4): early stopping still has evaluations to compare. */
  minEvals?: number;
  /** ... unless they would take more than this share of the time left (default 0.2): then fewer, down to the final one. */
  maxEvalShare?: number;
}

export interface BudgetPlan {
  /** Total steps of the run, `done` included: between `done` and `cap`. */
  total: number;
  /** Validation interval over those steps (<= the one asked for). */
  every: number;
  /** Whether time, not the epochs, set the total. */
  limited: boolean;
  /** Predicted seconds of the remaining steps and validations. */
  predicted: number;
}

/** Predicted seconds of steps done+1..total with a validation every `every` steps and at the end. */
function cost(m: BudgetMeasure, total: number, every: number): number {
  const steps = total - m.done;
  if (steps <= 0) return 0;
  const evals = every > 0 ? Math.floor(total / every) - Math.floor(m.done / every) + (total % every === 0 ? 0 : 1) : 0;
  return steps * m.secondsPerStep + evals * m.secondsPerEval;
}

/**
 * The most steps (at most `cap`) whose predicted time fits `remaining`. A short run validates
 * more often (at least `minEvals` times over its steps) while that costs at most
 * `maxEvalShare` of the time; the validations are counted in the time.
 */
export function planBudget(m: BudgetMeasure): BudgetPlan {
  if (!(m.secondsPerStep > 0)) throw new Error(`planBudget: seconds per step must be > 0, got ${m.secondsPerStep}`);
  const minEvals = m.minEvals ?? 4;
  // Validations the time affords, the final one always.
  const affordable = m.secondsPerEval > 0 ? Math.max(1, Math.floor(((m.maxEvalShare ?? 0.2) * Math.max(0, m.remaining)) / m.secondsPerEval)) : Infinity;
  const everyFor = (total: number) => {
    if (m.every <= 0) return 0;
    const often = Math.max(1, Math.min(m.every, Math.floor(total / minEvals)));
    return Math.max(often, Math.ceil(total / affordable));
  };
  // Every planned step fits at the asked validation interval: nothing changes.
  if (cost(m, m.cap, m.every) <= m.remaining) return { total: m.cap, every: m.every, limited: false, predicted: cost(m, m.cap, m.every) };
  const fits = (total: number) => cost(m, total, everyFor(total)) <= m.remaining;
  // Bisection: cost grows with total (more steps, never fewer validations after `done`).
  let lo = m.done;
  let hi = m.cap;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return { total: lo, every: everyFor(lo), limited: true, predicted: cost(m, lo, everyFor(lo)) };
}
