/**
 * Running the PyTorch trainer (packages/trainer/torch) from the tests: Debian's python3 with
 * python3-torch (.ci/run installs it; HUNCH_PYTHON names another interpreter). A missing
 * interpreter or torch fails the test that needs it: nothing is skipped.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../../scripts/lib/free-port.mjs';
import { decodeSafetensors, type TensorMap } from '../src/safetensors.js';
import type { Cli } from './cli-helpers.js';
import { simulated } from './helpers.js';

export const PYTHON = process.env.HUNCH_PYTHON ?? '/usr/bin/python3';
/** train.py and the hunch_torch module. */
/** A python run longer than this is killed (the tests' timeouts are 300 s). */
const PYTHON_TIMEOUT_MS = 240_000;

export const TORCH_DIR = fileURLToPath(new URL('../torch/', import.meta.url));

export interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `python3 ARGS` in TORCH_DIR, one thread unless `env` says otherwise; resolves whatever the exit code. */
export async function python(args: string[], env: Record<string, string> = {}): Promise<PythonRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(PYTHON, args, {
      cwd: TORCH_DIR,
      env: { ...process.env, PYTHONPATH: TORCH_DIR, OMP_NUM_THREADS: '1', ...env },
      maxBuffer: 256 * 1024 * 1024,
      // Killed rather than left behind when it hangs: the tests' own timeouts are longer.
      timeout: PYTHON_TIMEOUT_MS,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    if (e.killed) throw new Error(`${PYTHON} ${args.join(' ')} ran past ${PYTHON_TIMEOUT_MS / 1000} s and was killed: ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    if (typeof e.code !== 'number') throw new Error(`cannot run ${PYTHON} (install python3-torch, or set HUNCH_PYTHON): ${String(e.code ?? error)}`);
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * torchrun on Debian 12 (torch 1.13, Python 3.11): without `--redirects 1 --tee 1` its log
 * options fail to parse (fixed in torch 2.0); with them each line of rank 0's stdout comes
 * prefixed `[default0]:`.
 */
export const TORCHRUN = ['-m', 'torch.distributed.run', '--redirects', '1', '--tee', '1'];

/**
 * torchrun's arguments for `processes` processes on this machine, its rendezvous on a free
 * loopback port. Not `--standalone`: that always takes port 29400, and when another torchrun
 * holds it (a user's job, a run killed by a timeout) the new one joins that store and hangs.
 */
export async function torchrunOnOneMachine(processes: number): Promise<string[]> {
  const port = await freePort();
  return [...TORCHRUN, '--nnodes', '1', '--rdzv_backend', 'c10d', '--rdzv_endpoint', `127.0.0.1:${port}`, '--nproc_per_node', String(processes)];
}

/** Runs a python snippet with hunch_torch importable; its last stdout line parsed as JSON, or a failure showing its stderr. */
export async function pythonJson(code: string): Promise<unknown> {
  const run = await python(['-c', code]);
  if (run.code !== 0) throw new Error(`python exited ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

/** The JSON summary train.py prints last (under torchrun, rank 0's), or a failure showing its stderr. */
export function summaryOf(run: PythonRun): Record<string, number | string> {
  if (run.code !== 0) throw new Error(`train.py exited ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!.replace(/^\[default0\]:/, '')) as Record<string, number | string>;
}

/** `hunch shards --context 16` of `sessions` simulated shop sessions, written under `dir`: the tiny tokens the trainer tests train on. */
export async function simulatedShards(cli: Cli, dir: string, sessions: number, seed: number): Promise<{ shards: string; stderr: string }> {
  const events = join(dir, 'events.ndjson');
  await writeFile(events, simulated(sessions, seed).map((e) => JSON.stringify(e)).join('\n') + '\n');
  const shards = join(dir, 'shards');
  const made = await cli.run(['shards', '--events', events, '--out', shards, '--context', '16']);
  if (made.code !== 0) throw new Error(`hunch shards exited ${made.code}: ${made.stderr.trim()}`);
  return { shards, stderr: made.stderr };
}

/** The weights of a checkpoint directory train.py wrote. */
export async function weightsOf(dir: string): Promise<TensorMap> {
  return decodeSafetensors(await readFile(join(dir, 'model.safetensors'))).tensors;
}
