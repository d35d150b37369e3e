/**
 * Running the `hunch` CLI as a user does, for the CLI tests: this checkout's src/cli.ts
 * bundled with esbuild into a real `node` process, and small research datasets to run it on.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { Rng } from '../src/lib/prng.js';

const run = promisify(execFile);
const trainerDir = fileURLToPath(new URL('..', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Cli {
  run(args: string[], env?: Record<string, string>): Promise<CliRun>;
  /** Runs until `kill(line)` returns true for a stderr line, then SIGKILLs the process. */
  runUntil(args: string[], kill: (line: string) => boolean): Promise<CliRun & { killed: boolean }>;
  /** Starts a long-running command (`collect`): the caller reads its output and stops it. */
  start(args: string[]): ChildProcessWithoutNullStreams;
  dispose(): Promise<void>;
}

/** Bundles the CLI inside the package (so the external @tensorflow/* imports resolve). */
export async function buildCli(tag: string): Promise<Cli> {
  const outDir = join(trainerDir, 'dist', `.test-${tag}-${process.pid}`);
  await mkdir(outDir, { recursive: true });
  const cli = join(outDir, 'cli.mjs');
  await build({
    entryPoints: [join(trainerDir, 'src/cli.ts')],
    outfile: cli,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@tensorflow/*', 'onnx-proto', 'onnxruntime-node', 'better-sqlite3', 'pg', 'proper-lockfile'],
    alias: {
      '@hunch/core': fileURLToPath(new URL('../../core/src/index.ts', import.meta.url)),
      '@hunch/collector': fileURLToPath(new URL('../../collector/src/index.ts', import.meta.url)),
    },
    logLevel: 'silent',
  });
  // The test decides the backend, not the caller's environment.
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'HUNCH_TFJS_BACKEND'));
  return {
    async run(args, env = {}) {
      try {
        const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...baseEnv, ...env }, maxBuffer: 64 << 20 });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    runUntil(args, kill) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [cli, ...args], { env: baseEnv });
        let stdout = '';
        let stderr = '';
        let pending = '';
        let killed = false;
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          pending += chunk.toString();
          const lines = pending.split('\n');
          pending = lines.pop()!;
          if (!killed && lines.some(kill)) killed = child.kill('SIGKILL');
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, killed }));
      });
    },
    start: (args) => spawn(process.execPath, [cli, ...args], { env: baseEnv }),
    dispose: () => rm(outDir, { recursive: true, force: true }),
  };
}

/**
 * Sessions over `items` items (raw ids 1..items) that mostly follow a fixed successor, as
 * lines of the sessions format: learnable, so a model beats popularity.
 */
export function sessionLines(count: number, items: number, seed: number): string {
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let s = 0; s < count; s++) {
    let item = 1 + rng.int(items);
    const session = [item];
    const length = 2 + rng.int(6);
    while (session.length < length) {
      item = rng.next() < 0.8 ? ((item * 7 + 3) % items) + 1 : 1 + rng.int(items);
      session.push(item);
    }
    lines.push(session.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

/** A sessions dataset (train + test files) over 30 items in `dir`; every test item occurs in train. */
export async function writeSessionsDataset(dir: string, seed: number, sessions = 300): Promise<{ train: string; test: string }> {
  const items = 30;
  await mkdir(dir, { recursive: true });
  const train = join(dir, 'train.txt');
  const test = join(dir, 'test.txt');
  await writeFile(train, sessionLines(sessions, items, seed));
  await writeFile(test, sessionLines(40, items, seed + 1));
  return { train, test };
}

/** A user-sequences dataset (`user item item ...` per line) in `dir`. */
export async function writeSequencesDataset(dir: string, seed: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'sequences.txt');
  const lines = sessionLines(120, 25, seed)
    .trim()
    .split('\n')
    .map((line, user) => `${user + 1} ${line} ${line.split(' ')[0]}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** The last stdout line, parsed: the CLI's result object. */
export function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}
