// One timed training run for scripts/bench-train-speed.mjs, bundled with esbuild from a source
// tree (this checkout, or a git ref's): the benchmark's recipe for the data (`--data DIR` of
// Diginetica sessions: 2 layers, n_embd 64, 2,048 sampled negatives; `--sequences FILE` of
// leave-one-out data such as Beauty.txt: the small-data recipe, as `hunch benchmark` picks it;
// --embd/--heads/--layers override its size, --batch-tokens its batch, --negatives N its sampled
// negatives, 0 the full softmax; --distil α [--distil-k K] distils STAN's soft targets, computed
// before the timing starts) on the benchmark's training split, `steps` steps, `workers` workers.
// Prints one JSON line: tokens/s over the steps after the first `skip` (compilation), the
// process CPU per step, and with --validate the validation MRR@20 / HR@20 at the last step.
import { parseArgs } from 'node:util';
import { recipeFor, trainingSplit } from '../../packages/trainer/src/benchmark.js';
import { ITEM_OFFSET } from '../../packages/trainer/src/benchmark-evaluation.js';
import { distilTargets } from '../../packages/trainer/src/distillation.js';
import { loadBenchmarkData } from '../../packages/trainer/src/eval/benchmark-data.js';
import { trainSequences } from '../../packages/trainer/src/train-sequences.js';
import { planEpoch } from '../../packages/trainer/src/train/epoch-plan.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    sequences: { type: 'string' },
    worker: { type: 'string' },
    steps: { type: 'string', default: '60' },
    skip: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    validate: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    embd: { type: 'string' },
    heads: { type: 'string' },
    layers: { type: 'string' },
    'batch-tokens': { type: 'string' },
    negatives: { type: 'string' },
    distil: { type: 'string' },
    'distil-k': { type: 'string' },
  },
});
const steps = Number(values.steps);
const skip = Number(values.skip);
const seed = Number(values.seed);
const validateShare = Number(values.validate);
const data = await loadBenchmarkData(
  values.sequences
    ? { format: 'sequences', data: values.sequences }
    : { format: 'sessions', train: `${values.data}/train_sessions.txt.gz`, test: `${values.data}/test_sessions.txt` },
);
const { fit, validation } = trainingSplit(data);
const vocabSize = data.items.size + ITEM_OFFSET;
const isItem = Uint8Array.from({ length: vocabSize }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));
// --embd / --heads / --layers change the recipe's model size (to time a wider or deeper model),
// --batch-tokens and --negatives its batch and loss (to time smaller batches or the full softmax).
const recipe = {
  ...recipeFor(data.train.totalLength, data.items.size),
  ...(values.embd ? { embd: Number(values.embd) } : {}),
  ...(values.heads ? { heads: Number(values.heads) } : {}),
  ...(values.layers ? { layers: Number(values.layers) } : {}),
  ...(values['batch-tokens'] ? { batchTokens: Number(values['batch-tokens']) } : {}),
  ...(values.negatives ? { negatives: Number(values.negatives) } : {}),
};
// Every `1 / validateShare`-th validation sequence, scored once, after the last step.
const every = validateShare > 0 ? Math.round(1 / validateShare) : 0;
const cpu: number[] = [];
const clock = () => {
  const c = process.cpuUsage();
  cpu.push((c.user + c.system) / 1000);
  return performance.now();
};
// --distil α: STAN's soft targets for the training positions (before the clock starts), distilled with weight α.
const distilled = values.distil ? distilTargets(fit, isItem, { weight: Number(values.distil), ...(values['distil-k'] ? { k: Number(values['distil-k']) } : {}) }, {}, (line) => console.error(line)) : undefined;
const result = await trainSequences(fit, { vocabSize, isItem }, {
  ...recipe,
  ...(distilled ? { distil: distilled.distil } : {}),
  seed,
  workers: Number(values.workers),
  workerScript: values.worker!,
  stopAfter: steps,
  clock,
  ...(every ? { validation: { ...validation, sequences: validation.sequences.filter((_, i) => i % every === 0), every: steps, patience: Infinity } } : {}),
});
// The clock is read at the start and after each step (validations read it again after: none before the last step).
const lengths = fit.map((s) => Math.min(s.length, recipe.context + 1));
const plan = planEpoch(Int32Array.from(lengths), recipe.batchTokens, seed, 0);
let tokens = 0;
for (let s = skip; s < steps; s++) tokens += plan[s]!.reduce((n, i) => n + lengths[i]! - 1, 0);
const seconds = result.history[steps - 1]!.seconds - result.history[skip - 1]!.seconds;
const last = result.history[steps - 1]!;
console.log(
  JSON.stringify({
    steps,
    tokensPerSecond: Math.round(tokens / seconds),
    msPerStep: +((seconds * 1000) / (steps - skip)).toFixed(1),
    cpuMsPerStep: +((cpu[steps]! - cpu[skip]!) / (steps - skip)).toFixed(1),
    loss: +last.loss.toFixed(4),
    ...(last.valMrr !== undefined ? { valMrr20: +last.valMrr.toFixed(4), valHit20: +last.valHit!.toFixed(4) } : {}),
  }),
);
