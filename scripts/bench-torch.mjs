// `npm run bench:torch`: the PyTorch trainer (packages/trainer/torch) beside the Node trainer on
// the same model (the Diginetica recipe: 2 layers, n_embd 64, 2,048 sampled negatives) and the
// same token shards (`hunch shards` of ../shared/datasets/diginetica), in one run:
//   throughput (default): tokens/s over --steps steps (default 40) of each, one after the other:
//     Node 1 and 2 workers, PyTorch 1 process and 2 processes (torchrun, DDP over gloo), 1 thread each.
//   --quality MINUTES: each trains for MINUTES (Node 2 workers, PyTorch --processes N, default 1),
//     then `hunch eval` scores each checkpoint on the test set (P@20, MRR@20); --engines node or
//     torch runs one of them (default node,torch).
// Prints one JSON object as its last line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { freePort } from './lib/free-port.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const trainer = join(root, 'packages', 'trainer');
const cli = join(trainer, 'dist', 'cli.js');
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const python = process.env.HUNCH_PYTHON ?? '/usr/bin/python3';
const { values: flags } = parseArgs({ options: { steps: { type: 'string', default: '40' }, quality: { type: 'string' }, processes: { type: 'string', default: '1' }, shards: { type: 'string' }, engines: { type: 'string', default: 'node,torch' } } });

const work = mkdtempSync(join(tmpdir(), 'hunch-bench-torch-'));
const log = (line) => console.error(line);
try {
  const data = ['--format', 'sessions', '--train', join(datasets, 'diginetica', 'train_sessions.txt.gz'), '--test', join(datasets, 'diginetica', 'test_sessions.txt')];
  const shards = flags.shards ?? join(work, 'shards');
  if (!existsSync(join(shards, 'shards.json'))) execFileSync(process.execPath, [cli, 'shards', ...data, '--out', shards], { stdio: 'inherit' });

  // The Node trainer from source, bundled inside the trainer package so its externals resolve.
  const bundle = join(trainer, 'dist', `.bench-torch-${process.pid}.mjs`);
  await build({
    entryPoints: [join(root, 'scripts', 'lib', 'node-shards-train.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@tensorflow/*', 'onnx-proto', 'onnxruntime-node', 'better-sqlite3'],
    alias: { '@hunch/core': join(root, 'packages', 'core', 'src', 'index.ts') },
    logLevel: 'silent',
  });
  let trainNodeOnShards;
  try {
    ({ trainNodeOnShards } = await import(bundle));
  } finally {
    rmSync(bundle, { force: true });
  }
  const workerScript = join(trainer, 'dist', 'train-worker.js');
  const node = (workers, extra) => trainNodeOnShards({ shards, workers, workerScript, log, ...extra });
  // Without validation: the Node side here (node-shards-train.ts) does not validate either, so both train alike and keep their final weights.
  const torch = async (processes, args) => {
    // A free loopback port for the rendezvous, not --standalone's fixed 29400 (another torchrun holding it makes this one hang).
    const launch = processes > 1 ? ['-m', 'torch.distributed.run', '--redirects', '1', '--tee', '1', '--nnodes', '1', '--rdzv_backend', 'c10d', '--rdzv_endpoint', `127.0.0.1:${await freePort()}`, '--nproc_per_node', String(processes)] : [];
    const out = execFileSync(python, [...launch, 'train.py', '--shards', shards, '--threads', '1', '--validate-every', '0', ...args], {
      cwd: join(trainer, 'torch'),
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    }).toString();
    process.stderr.write(out);
    return JSON.parse(out.trim().split('\n').pop().replace(/^\[default0\]:/, ''));
  };

  const result = { command: `npm run bench:torch -- ${process.argv.slice(2).join(' ')}`.trim(), cpus: (await import('node:os')).cpus().length, loadavg_before: loadavg().map((x) => +x.toFixed(2)) };
  if (flags.quality === undefined) {
    const steps = Number(flags.steps);
    result.steps = steps;
    result.tokens_per_second = {
      node_1_worker: (await node(1, { steps })).tokensPerSecond,
      node_2_workers: (await node(2, { steps })).tokensPerSecond,
      torch_1_process: (await torch(1, ['--out', join(work, 't1'), '--max-steps', String(steps)])).tokens_per_second,
      torch_2_processes: (await torch(2, ['--out', join(work, 't2'), '--max-steps', String(steps)])).tokens_per_second,
    };
  } else {
    const minutes = Number(flags.quality);
    const processes = Number(flags.processes);
    const evaluate = (checkpoint) => JSON.parse(execFileSync(process.execPath, [cli, 'eval', '--model', checkpoint, ...data, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 }).toString().trim().split('\n').pop());
    const engines = flags.engines.split(',');
    result.minutes = minutes;
    if (engines.includes('node')) {
      const run = await node(2, { seconds: minutes * 60, out: join(work, 'node') });
      result.node = { workers: 2, steps: run.steps, seconds: run.seconds, tokens_per_second: run.tokensPerSecond, ...evaluate(join(work, 'node')) };
    }
    if (engines.includes('torch')) {
      const run = await torch(processes, ['--out', join(work, 'torch'), '--time-budget', String(minutes)]);
      result.torch = { processes, steps: run.steps, seconds: run.seconds, tokens_per_second: run.tokens_per_second, ...evaluate(join(work, 'torch')) };
    }
  }
  result.loadavg_after = loadavg().map((x) => +x.toFixed(2));
  console.log(JSON.stringify(result));
} finally {
  rmSync(work, { recursive: true, force: true });
}
