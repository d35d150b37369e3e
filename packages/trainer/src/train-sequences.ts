/**
 * Next-item training over token sequences (research sessions, or encoded Hunch
 * histories): GPT-2 + item bias + repeat bonus (next-item/) with sampled softmax,
 * dropout, AdamW, warmup + cosine decay, clipping; batches of sessions of similar length
 * (train/epoch-plan.ts); optional data-parallel worker_threads (train/engine.ts); a
 * validation split with early stopping; a saved state that resumes to exactly the state of
 * an uninterrupted run (train/run-state.ts); an optional time budget (train/budget.ts) that sets
 * the number of steps from the throughput measured on the first ones, the learning-rate
 * schedule laid over them.
 *
 * Determinism: the batch plan of epoch e is a function of (seed, e); the negatives of
 * step s of (seed, s); a row's dropout mask of (seed, s, row). The saved state holds the
 * weights, the AdamW state and the step, so a resumed run repeats the same computation.
 * With 2 workers the gradient is the sum of two halves: equal up to float rounding.
 */
import { useWasmBackend } from './backend.js';
import type { RankMetrics } from './eval/metrics.js';
import { hashSeed, Rng } from './lib/prng.js';
import type { GPT2Config } from './model.js';
import { attributeHeads, initNextItem, nextItemShapes, setItemAttributes, type HeadOptions, type TokenAttributes } from './next-item/heads.js';
import { accumulate, clearGradients, gradientSquares, rowSeed, type ShardInput } from './next-item/loss.js';
import { AliasSampler, negativeWeights } from './next-item/negatives.js';
import { ParamLayout } from './next-item/param-layout.js';
import { sharedSoftTargets, type SoftTargetTable } from './next-item/soft-target-block.js';
import type { EvalOptions } from './next-item/scorer.js';
import type { TensorMap } from './safetensors.js';
import { localEngine, workerEngine } from './train/engine.js';
import { planEpoch } from './train/epoch-plan.js';
import { planBudget } from './train/budget.js';
import { FlatAdamW, warmupCosine } from './train/optimizer.js';
import type { TrainOptions } from './train/options.js';
import { formatDuration, progressBar } from './train/progress.js';
import { fingerprint, loadRunState, saveRunState } from './train/run-state.js';

/** Sequences longer than `context` + 1 tokens keep their first context + 1. */
export interface SequenceTrainOptions extends TrainOptions {
  /** Warmup steps (default 2% of all steps, at least 1). */
  warmup?: number;
  /** Final lr as a share of the peak (default 0.1). */
  minLrRatio?: number;
  beta2?: number;
  clip?: number;
  /** Shared sampled negatives per step; 0 = full softmax over every candidate. */
  negatives: number;
  negativePower?: number;
  itemBias: boolean;
  repeat: boolean;
  /** > 0: cosine scoring with this scale τ (next-item/heads.ts); 0 or absent: dot product. */
  cosineScale?: number;
  /**
   * Attribute-composed item vectors (next-item/heads.ts, ATTR_TABLE): each token's catalog
   * attributes. `learned` absent: items with no training occurrence are known by their
   * attributes only. Absent: the plain model, its tensors unchanged.
   */
  itemAttributes?: Omit<TokenAttributes, 'learned'> & { learned?: Uint8Array };
  /** With itemAttributes: each step, the share of items scored by their attributes alone (next-item/loss.ts). Default 0. */
  embeddingDrop?: number;
  /**
   * Distillation (next-item/loss.ts): a teacher's soft targets for the positions of the
   * training sequences (soft-targets.ts: each sequence's length - 1 positions, in order; those
   * past the context are not used), taught with this weight. With workers, a table not in a
   * SharedArrayBuffer is copied into one once.
   */
  distil?: { weight: number; targets: SoftTargetTable };
  /** Validation: score every `every` steps (and at the end), stop after `patience` evaluations without a better MRR@20. */
  validation?: {
    sequences: ReadonlyArray<ArrayLike<number>>;
    every: number;
    patience?: number;
    /** First input position scored (1 with [BOS] first; 0 for bare item sequences). */
    minPosition?: number;
    /** Score only each sequence's last target (leave-one-out validation). */
    lastOnly?: boolean;
    /** Rank with the sequence's own earlier items masked. */
    excludeSeen?: boolean;
  };
  /**
   * Wall-clock seconds this call may train, validations included (a resumed run keeps the
   * steps fixed before the kill, and gets this call's seconds). After `calibrationSteps` steps (default 20), or sooner when
   * they take a tenth of the budget, the trainer times them and a sample of the validation
   * set, then fixes the total steps so that the rest fits, at most the epochs' steps; warmup
   * and cosine decay are laid over that total, and a short run validates more often (at
   * least 4 times while that takes at most a fifth of the time). A quarter of the steps left
   * later it times the steps since and fixes the total again (the schedule follows), and so on
   * while over 20 steps and 5% of the run are left. Should the time still run out, it stops
   * there. Absent: the epochs decide.
   */
  timeBudget?: {
    seconds: number;
    calibrationSteps?: number;
    /**
     * Seconds the caller predicted for its work after training (e.g. the test evaluation) at the
     * speed of the moment it predicted them, already left out of `seconds`. When the steps get
     * slower than at calibration, that work is taken to slow down alike, and the extra comes
     * out of training's time.
     */
    afterSeconds?: number;
  };
  /** Milliseconds since some origin, for the time budget (default performance.now; tests give their own). */
  clock?: () => number;
  /** Save the run's state (train/run-state.ts) to `dir` every `every` steps; resume from it when it exists. */
  state?: { dir: string; every: number };
  /** Evaluated once at the end with the returned weights (full ranking), using the workers. */
  test?: { sequences: ReadonlyArray<ArrayLike<number>> } & EvalOptions;
  /**
   * Weights to start from (fine-tuning): every tensor whose name and shape match the
   * model's replaces its fresh initialisation; the rest keep it. A tensor with a known
   * name and another shape is an error.
   */
  init?: TensorMap;
}

export interface VocabInfo {
  vocabSize: number;
  /** 1 for tokens that are items (rankable, repeat-bonus candidates). Default: every id >= 3. */
  isItem?: Uint8Array;
}

export interface SequenceTrainResult {
  config: GPT2Config;
  heads: HeadOptions;
  /** Best (by validation) or final weights, HF names + `lm_head.bias`, `hunch.repeat.*`. */
  weights: TensorMap;
  isItem: Uint8Array;
  steps: number;
  totalSteps: number;
  seconds: number;
  tokensPerSecond: number;
  /** Per step: its loss, learning rate, time since the start, and the validation figures where it validated. */
  history: Array<{ step: number; loss: number; lr?: number; valMrr?: number; valHit?: number; seconds: number }>;
  bestStep: number;
  bestValMrr: number;
  stoppedEarly: boolean;
  /**
   * With a time budget: the steps the epochs planned, the steps fixed from the measured
   * throughput, and whether time (not the epochs) set them, or ran out before them.
   */
  budget?: { seconds: number; plannedSteps: number; secondsPerStep: number; secondsPerEval: number; limited: boolean; ranOut: boolean };
  /** Metrics on options.test, and the seconds that took. */
  test?: RankMetrics & { seconds: number };
}

/**
 * Trains the next-item GPT-2 on token sequences ([BOS] first). Returns the weights
 * (best on validation when a validation set is given) with config and history.
 */
export async function trainSequences(
  sequences: ReadonlyArray<ArrayLike<number>>,
  vocab: VocabInfo,
  options: SequenceTrainOptions,
): Promise<SequenceTrainResult> {
  await useWasmBackend();
  const log = options.log ?? (() => {});
  const V = vocab.vocabSize;
  const isItem = vocab.isItem ?? Uint8Array.from({ length: V }, (_, i) => (i >= 3 ? 1 : 0));
  const P = options.context;
  const rows: Int32Array[] = [];
  // Each row's first position in the soft-target table (distillation).
  const rowStarts: number[] = [];
  let positions = 0;
  for (const s of sequences) {
    const row = Int32Array.from(Array.from(s).slice(0, P + 1));
    if (row.length >= 2) {
      rows.push(row);
      rowStarts.push(positions);
    }
    positions += Math.max(0, s.length - 1);
  }
  if (rows.length === 0) throw new Error('no sequence has a target to learn');
  const distil = options.distil && options.distil.weight > 0 ? options.distil : undefined;
  if (distil && distil.targets.ids.length !== positions * distil.targets.k) {
    throw new Error(`soft targets: ${distil.targets.ids.length / distil.targets.k} positions, the training sequences have ${positions}`);
  }
  const lengths = Int32Array.from(rows, (r) => r.length);
  const config: GPT2Config = { vocabSize: V, nPositions: P, nEmbd: options.embd, nLayer: options.layers, nHead: options.heads, layerNormEpsilon: 1e-5 };
  const attrs = options.itemAttributes;
  const heads: HeadOptions = {
    itemBias: options.itemBias,
    repeat: options.repeat,
    ...(options.cosineScale ? { cosineScale: options.cosineScale } : {}),
    ...(attrs ? { attributes: attributeHeads({ ...attrs, learned: new Uint8Array(0) }) } : {}),
  };
  const layout = new ParamLayout(nextItemShapes(config, heads));
  const workers = Math.max(1, Math.floor(options.workers));
  const params = new Float32Array(workers > 1 ? new SharedArrayBuffer(layout.size * 4) : new ArrayBuffer(layout.size * 4));
  initNextItem(config, heads, options.seed, params, layout);
  if (options.init) {
    for (const [name, t] of options.init) {
      const entry = layout.byName.get(name);
      if (!entry) continue;
      if (entry.shape.join(',') !== t.shape.join(',')) throw new Error(`init tensor ${name} is [${t.shape.join(', ')}], the model needs [${entry.shape.join(', ')}]`);
      layout.view(params, name).set(t.data);
    }
  }
  let learnedItems: Uint8Array | undefined;
  if (attrs) {
    if (attrs.byToken.length !== V) throw new Error(`item attributes: ${attrs.byToken.length} tokens, the vocabulary has ${V}`);
    let learned = attrs.learned;
    if (!learned) {
      const seen = new Uint8Array(V);
      for (const r of rows) for (const token of r) seen[token] = 1;
      learned = Uint8Array.from(isItem, (item, id) => (item ? seen[id]! : 1));
    }
    setItemAttributes(heads, { ...attrs, learned }, params, layout);
    learnedItems = learned;
  }
  const optimizer = new FlatAdamW(layout.size, layout.segments(), {
    beta1: 0.9,
    beta2: options.beta2 ?? 0.98,
    eps: 1e-8,
    weightDecay: options.weightDecay,
    clip: options.clip ?? 1,
  }, workers > 1);
  const best = new Float32Array(layout.size);

  // Negative sampler from training counts; full softmax uses every candidate once.
  const counts = new Float64Array(V);
  for (const r of rows) for (let t = 1; t < r.length; t++) counts[r[t]!]!++;
  let sampler: AliasSampler | undefined;
  let allCandidates: Int32Array | undefined;
  // With attributes, items training never saw are not negatives either: training knows nothing of them.
  const negativeItems = learnedItems ? Uint8Array.from(isItem, (item, id) => item & learnedItems![id]!) : isItem;
  if (options.negatives > 0) sampler = new AliasSampler(negativeWeights(counts, negativeItems, options.negativePower ?? 0.75));
  else allCandidates = Int32Array.from([...isItem.keys()].filter((i) => negativeItems[i] || (i > 0 && counts[i]! > 0)));
  const K = options.negatives > 0 ? options.negatives : allCandidates!.length;

  // All epoch plans up front: the cosine schedule needs the total number of steps. A time
  // budget may lower the total once the first steps are timed (the epochs are then a cap).
  const plans: number[][][] = [];
  for (let e = 0; e < options.epochs; e++) plans.push(planEpoch(lengths, options.batchTokens, options.seed, e));
  const plannedSteps = plans.reduce((n, p) => n + p.length, 0);
  let totalSteps = plannedSteps;
  const warmupOf = (total: number) => options.warmup ?? Math.max(1, Math.round(total * 0.02));
  let validateEvery = options.validation?.every ?? 0;
  const where = (step: number): [number, number] => {
    let e = 0;
    while (step >= plans[e]!.length) step -= plans[e++]!.length;
    return [e, step];
  };

  let step = 0;
  let history: SequenceTrainResult['history'] = [];
  let bestStep = -1;
  let bestValMrr = -Infinity;
  let badEvals = 0;
  let priorSeconds = 0;
  let tokens = 0;
  let budgetFixed: { total: number; every: number; check?: number } | undefined;
  const fp = fingerprint(options, V, rows.length);
  if (options.state) {
    const saved = await loadRunState(options.state.dir, [params, optimizer.m, optimizer.v, best]);
    if (saved) {
      if (saved.fingerprint !== fp) throw new Error(`${options.state.dir}: the training state was saved with other options or data; remove it to start afresh`);
      ({ step, history, bestStep, bestValMrr, badEvals, tokens } = saved);
      priorSeconds = saved.seconds;
      if (saved.budget && options.timeBudget) {
        budgetFixed = saved.budget;
        ({ total: totalSteps, every: validateEvery } = saved.budget);
      }
      optimizer.t = saved.adamT;
      log(`resuming from step ${step}/${totalSteps}`);
    }
  }

  // Summed gradients, shared with the workers that apply the update; all zero between steps.
  const grads = new Float32Array(workers > 1 ? new SharedArrayBuffer(layout.size * 4) : new ArrayBuffer(layout.size * 4));
  const engineOptimizer = { state: optimizer, grads };
  const softTable = distil && (workers > 1 ? sharedSoftTargets(distil.targets) : distil.targets);
  const engine =
    workers > 1
      ? await workerEngine(workers, options.workerScript ?? new URL('./train-worker.js', import.meta.url), config, layout, params.buffer as SharedArrayBuffer, isItem, engineOptimizer)
      : localEngine(config, layout, params, isItem, engineOptimizer);
  const validate = (sequences = options.validation!.sequences) => {
    const { minPosition, lastOnly, excludeSeen } = options.validation!;
    return engine.evaluate(sequences, { minPosition: minPosition ?? 1, lastOnly: lastOnly ?? false, excludeSeen: excludeSeen ?? false });
  };
  /** Seconds one validation takes, from a tenth of the set (at least 256 sequences) scaled to all of it; nothing is recorded. */
  const timeValidation = async () => {
    const all = options.validation!.sequences;
    const size = Math.min(all.length, Math.max(256, Math.ceil(all.length / 10)));
    const sample = Array.from({ length: size }, (_, i) => all[Math.floor((i * all.length) / size)]!);
    const t0 = clock();
    await validate(sample);
    return ((clock() - t0) / 1000) * (all.length / size);
  };

  log(
    `training next-item GPT-2: ${config.nLayer} layers, n_embd ${config.nEmbd}, ${config.nHead} heads, context ${P}, vocab ${V}, ` +
      `${layout.size.toLocaleString('en')} parameters; ${rows.length} sequences, ${totalSteps} steps (${options.epochs} epochs), ` +
      `${options.negatives > 0 ? `${K} sampled negatives` : 'full softmax'}, ${workers} worker${workers > 1 ? 's' : ''}` +
      (distil ? `; distilling soft targets (weight ${distil.weight}, ${distil.targets.k} items a position)` : ''),
  );
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const elapsed = () => priorSeconds + (clock() - started) / 1000;
  const budget = options.timeBudget;
  const calibrationSteps = Math.max(2, budget?.calibrationSteps ?? 20);
  let firstStepDone = NaN;
  let evalSecondsSinceFirst = 0;
  let secondsPerStep = NaN;
  let secondsPerEval = 0;
  let limited = false;
  // Since the calibration or the last check: when, at which step, validation seconds and count so far.
  let mark: { time: number; step: number; evalSeconds: number; evals: number } | undefined;
  let evalsSinceFirst = 0;
  let calibratedPerStep = NaN;
  // The throughput is checked again a quarter of the steps left later, while over 20 steps and 5% of the run are left.
  const nextCheck = (at: number, total: number): { check?: number } => {
    const check = at + Math.max(1, Math.round((total - at) / 4));
    return total - at > Math.max(20, 0.05 * total) && check < total ? { check } : {};
  };
  let ranOut = false;
  if (budget && !(budget.seconds > 0)) throw new Error(`the time budget must be > 0 seconds, got ${budget.seconds}`);
  // Training's seconds, less what a slowdown since calibration adds to the work after training.
  let slowdown = 1;
  const trainingSeconds = () => budget!.seconds - (budget!.afterSeconds ?? 0) * (slowdown - 1);
  let sessionTokens = 0;
  let stoppedEarly = false;
  let lossEma = NaN;
  const patience = options.validation?.patience ?? Infinity;
  let ran = 0;
  let interrupted = false;
  /** Validates the weights after `entry.step`, keeping them when they are the best so far. */
  const validateStep = async (entry: SequenceTrainResult['history'][number]) => {
    const v = await validate();
    entry.valMrr = v.mrr;
    entry.valHit = v.hit;
    if (v.mrr > bestValMrr) {
      bestValMrr = v.mrr;
      bestStep = entry.step;
      best.set(params);
      badEvals = 0;
    } else badEvals++;
  };
  try {
    while (step < totalSteps) {
      if (options.stopAfter !== undefined && ran >= options.stopAfter) {
        interrupted = true;
        break;
      }
      const [epoch, index] = where(step);
      const batchRows = plans[epoch]![index]!;
      const batch = batchRows.map((i) => rows[i]!);
      const rng = new Rng(hashSeed(options.seed, step, 0x4e6));
      const negatives = sampler ? sampler.sample(rng, K) : allCandidates!;
      const logKQ = sampler ? Float32Array.from(negatives, (n) => Math.log(K) + sampler!.logQ[n]!) : new Float32Array(K);
      const normalizer = batch.reduce((n, r) => n + r.length - 1, 0);
      const shardOf = (part: number): ShardInput => {
        const picked = batch.map((_, i) => i).filter((i) => i % workers === part);
        return {
          rows: picked.map((i) => batch[i]!),
          rowSeeds: picked.map((i) => rowSeed(options.seed, step, i)),
          negatives,
          negativeLogKQ: logKQ,
          normalizer,
          dropout: options.dropout,
          ...(options.itemAttributes && options.embeddingDrop ? { embeddingDrop: { rate: options.embeddingDrop, seed: hashSeed(options.seed, step, 0xe3b) } } : {}),
          ...(softTable ? { softTargets: { weight: distil!.weight, table: softTable, starts: Int32Array.from(picked, (i) => rowStarts[batchRows[i]!]!) } } : {}),
        };
      };
      const shards = Array.from({ length: Math.min(workers, batch.length) }, (_, i) => shardOf(i));
      const pending = engine.compute(shards);
      // A failed shard rejects where it is awaited below, not also as an unhandled rejection.
      for (const p of pending) p.catch(() => {});
      let lossSum = 0;
      const touched: Int32Array[] = [];
      // In shard order (the sum's order), each as soon as it and those before it are done.
      for (const p of pending) {
        const out = await p;
        accumulate(layout, grads, out, config.nEmbd);
        lossSum += out.lossSum;
        touched.push(out.rows);
      }
      const loss = lossSum / normalizer;
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step + 1}; try a lower lr`);
      const lr = warmupCosine(step, totalSteps, options.lr, warmupOf(totalSteps), options.minLrRatio ?? 0.1);
      await engine.update(optimizer.begin(grads, lr, gradientSquares(layout, grads, touched, config.nEmbd)).update);
      // All zero again for the next step (accumulate adds): only what this one wrote.
      clearGradients(layout, grads, touched, config.nEmbd);
      step++;
      ran++;
      tokens += normalizer;
      sessionTokens += normalizer;
      lossEma = Number.isNaN(lossEma) ? loss : 0.95 * lossEma + 0.05 * loss;
      // One clock reading after the step (and one after a validation) times everything below.
      let now = clock();
      const secondsAt = (t: number) => priorSeconds + (t - started) / 1000;
      const entry: SequenceTrainResult['history'][number] = { step, loss, lr, seconds: secondsAt(now) };
      if (ran === 1) firstStepDone = now;
      // The budget: time the steps after the first (it pays for compilation), and a sample of
      // the validation set at the calibration step, then fix the total steps.
      // Timed at the calibration step, or sooner when the first steps already took a tenth of the budget.
      const calibrate =
        budget !== undefined && budgetFixed === undefined && step < totalSteps && (step === calibrationSteps || (ran >= 2 && (now - started) / 1000 >= 0.1 * budget.seconds));
      const evalNow = options.validation && (step % validateEvery === 0 || step === totalSteps);
      if (calibrate) secondsPerStep = ran > 1 ? ((now - firstStepDone) / 1000 - evalSecondsSinceFirst) / (ran - 1) : (now - started) / 1000 / ran;
      if (evalNow) {
        const evalStarted = now;
        await validateStep(entry);
        now = clock();
        evalSecondsSinceFirst += (now - evalStarted) / 1000;
        evalsSinceFirst++;
      }
      history.push(entry);
      if (calibrate) {
        if (options.validation) {
          secondsPerEval = await timeValidation();
          now = clock();
        }
        const plan = planBudget({ remaining: budget.seconds - (now - started) / 1000, secondsPerStep, secondsPerEval, done: step, cap: plannedSteps, every: validateEvery });
        budgetFixed = { total: plan.total, every: plan.every, ...nextCheck(step, plan.total) };
        mark = { time: now, step, evalSeconds: evalSecondsSinceFirst, evals: evalsSinceFirst };
        calibratedPerStep = secondsPerStep;
        totalSteps = plan.total;
        validateEvery = plan.every;
        limited = plan.limited;
        const epochs = (plan.total / plannedSteps) * options.epochs;
        log(
          `time budget ${formatDuration(budget.seconds)}: ${(secondsPerStep * 1000).toFixed(0)} ms a step${options.validation ? `, ${secondsPerEval.toFixed(1)} s a validation (timed on a sample)` : ''} ` +
            `(measured on the first ${step}) -> ${plan.total} steps, ${epochs.toFixed(2)} epochs` +
            (plan.limited ? `: the budget sets the epochs (${options.epochs} would take ${plannedSteps} steps)` : ` (all ${options.epochs} epochs fit)`) +
            (options.validation ? `, validation every ${plan.every} steps` : ''),
        );
      }
      if (budget && budgetFixed?.check === step) {
        const { check: _done, ...fixed } = budgetFixed;
        budgetFixed = fixed;
        // Only a run that timed its own first steps checks (a resumed one keeps its plan).
        if (mark) {
          const evals = evalsSinceFirst - mark.evals;
          const evalSeconds = evalSecondsSinceFirst - mark.evalSeconds;
          const perStep = ((now - mark.time) / 1000 - evalSeconds) / (step - mark.step);
          const perEval = evals > 0 ? evalSeconds / evals : secondsPerEval;
          slowdown = Math.max(1, perStep / calibratedPerStep);
          const plan = planBudget({ remaining: trainingSeconds() - (now - started) / 1000, secondsPerStep: perStep, secondsPerEval: perEval, done: step, cap: plannedSteps, every: options.validation?.every ?? 0 });
          if (plan.total !== totalSteps) {
            log(
              `time budget checked at step ${step}: ${(perStep * 1000).toFixed(0)} ms a step since step ${mark.step}` +
                (slowdown > 1 && budget.afterSeconds ? ` (${slowdown.toFixed(2)}x the first steps': ${(budget.afterSeconds * (slowdown - 1)).toFixed(1)} s more kept for after training)` : '') +
                ` -> ${plan.total} steps instead of ${totalSteps}, ` +
                `${((plan.total / plannedSteps) * options.epochs).toFixed(2)} epochs` +
                (plan.limited ? ': the budget sets the epochs' : ` (all ${options.epochs} epochs fit)`),
            );
          }
          budgetFixed = { total: plan.total, every: plan.every, ...nextCheck(step, plan.total) };
          mark = { time: now, step, evalSeconds: evalSecondsSinceFirst, evals: evalsSinceFirst };
          totalSteps = plan.total;
          validateEvery = plan.every;
          limited = plan.limited;
          secondsPerStep = perStep;
        }
      }
      const every = Math.max(1, Math.min(50, Math.round(totalSteps / 100)));
      if (evalNow || step % every === 0 || step === totalSteps) {
        const rate = sessionTokens / ((now - started) / 1000);
        const eta = (totalSteps - step) * ((now - started) / 1000 / ran);
        log(
          `${progressBar(step / totalSteps)} step ${step}/${totalSteps} ep ${epoch + 1}  loss ${lossEma.toFixed(4)}  lr ${lr.toExponential(2)}  ${Math.round(rate)} tok/s  ` +
            `${formatDuration(secondsAt(now))} ETA ${formatDuration(eta)}` +
            (entry.valMrr !== undefined ? `  val MRR@20 ${entry.valMrr.toFixed(4)} HR@20 ${entry.valHit!.toFixed(4)} (best ${bestValMrr.toFixed(4)} @${bestStep})` : ''),
        );
      }
      if (options.state && (step % options.state.every === 0 || step === totalSteps)) {
        await saveRunState(
          options.state.dir,
          {
            format: 'hunch-train-state',
            version: 1,
            fingerprint: fp,
            step,
            adamT: optimizer.t,
            history,
            bestStep,
            bestValMrr,
            badEvals,
            seconds: secondsAt(now),
            tokens,
            ...(budgetFixed ? { budget: budgetFixed } : {}),
          },
          [params, optimizer.m, optimizer.v, best],
        );
      }
      if (evalNow && badEvals >= patience) {
        stoppedEarly = true;
        log(`stopping early at step ${step}: no better validation MRR@20 for ${badEvals} evaluations`);
        break;
      }
      if (budget && step < totalSteps && (now - started) / 1000 >= trainingSeconds()) {
        ranOut = true;
        log(`time budget spent at step ${step} of ${totalSteps}: stopping before the schedule's end (the throughput fell after it was measured)`);
        break;
      }
    }
    // The last weights are always judged: a re-plan can make the step just run the last after
    // its turn to validate was decided, and a run out of time stops between validations (the
    // plan kept time for a final one either way).
    const last = history.at(-1);
    if (options.validation && !interrupted && last && last.step === step && last.valMrr === undefined) {
      await validateStep(last);
      log(`final validation at step ${step}: val MRR@20 ${last.valMrr!.toFixed(4)} HR@20 ${last.valHit!.toFixed(4)} (best ${bestValMrr.toFixed(4)} @${bestStep})`);
    }
  } catch (error) {
    await engine.close();
    throw error;
  }
  const seconds = elapsed();
  const useBest = options.validation && bestStep > 0;
  let test: SequenceTrainResult['test'];
  try {
    if (options.test) {
      const t0 = performance.now();
      const { sequences: testSequences, ...evalOptions } = options.test;
      const m = await engine.evaluate(testSequences, evalOptions, useBest ? best : params);
      test = { ...m, seconds: (performance.now() - t0) / 1000 };
      log(`test: HR@${evalOptions.k ?? 20} ${m.hit.toFixed(4)}  MRR@${evalOptions.k ?? 20} ${m.mrr.toFixed(4)}  (${m.examples} examples, ${test.seconds.toFixed(0)} s)`);
    }
  } finally {
    await engine.close();
  }
  return {
    config,
    heads,
    weights: layout.toTensorMap(useBest ? best : params),
    isItem,
    steps: step,
    totalSteps,
    seconds,
    tokensPerSecond: Math.round(tokens / Math.max(seconds, 1e-9)),
    history,
    bestStep,
    bestValMrr,
    stoppedEarly,
    ...(budget ? { budget: { seconds: budget.seconds, plannedSteps, secondsPerStep, secondsPerEval, limited, ranOut } } : {}),
    ...(test ? { test } : {}),
  };
}
