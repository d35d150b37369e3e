/**
 * Chooses and starts the TensorFlow.js backend the trainer computes on:
 * - `HUNCH_TFJS_BACKEND=wasm|cpu|tensorflow` when set (an explicit choice; fails loudly);
 * - else `tensorflow` (native, multithreaded) when the user has installed
 *   `@tensorflow/tfjs-node` beside us; it is never our dependency (its install downloads
 *   libtensorflow), so a missing or broken one falls back to wasm;
 * - else `wasm`: ~25x faster than the pure-JS `cpu` backend and runs wherever Node runs.
 * Workers (train-worker.ts) call the same function, so they compute on the same backend.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installLeadingAxesSum } from './wasm-sum.js';
import { shareWasmBuffers } from './wasm-sharing.js';

export const BACKEND_NAMES = ['wasm', 'cpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_ENV = 'HUNCH_TFJS_BACKEND';
const TFJS_NODE = '@tensorflow/tfjs-node';

export interface BackendChoice {
  name: BackendName;
  /** Why: the env override, tfjs-node found, or the wasm default (with the fallback reason). */
  reason: string;
}

/**
 * The backend to use, before anything is loaded: the env override when set, else
 * tensorflow when tfjs-node resolves, else wasm. Throws on an unknown override.
 */
export function planBackend(envValue: string | undefined, tfjsNodeResolves: boolean): BackendChoice {
  const wanted = envValue?.trim().toLowerCase();
  if (wanted) {
    if (!(BACKEND_NAMES as readonly string[]).includes(wanted)) {
      throw new Error(`${BACKEND_ENV} must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(envValue)}`);
    }
    return { name: wanted as BackendName, reason: `${BACKEND_ENV}=${wanted}` };
  }
  if (tfjsNodeResolves) return { name: 'tensorflow', reason: `${TFJS_NODE} is installed` };
  return { name: 'wasm', reason: `${TFJS_NODE} is not installed` };
}

const require = createRequire(import.meta.url);

function resolves(specifier: string): boolean {
  try {
    require.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

let wasmPathsSet = false;

async function startWasm(): Promise<void> {
  // Point the loader at the package's own .wasm files by path: bundlers and test runners
  // may load the ESM build, whose default is to fetch them relative to a URL.
  if (!wasmPathsSet) setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  wasmPathsSet = true;
  if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend failed to start');
  shareWasmBuffers();
  installLeadingAxesSum();
}

/** Imports tfjs-node for its side effect (registering `tensorflow`); rollup keeps it external. */
const importTfjsNode = (): Promise<unknown> => import('@tensorflow/tfjs-node');

async function startTensorflow(loadTfjsNode: () => Promise<unknown>): Promise<void> {
  // Importing tfjs-node registers the `tensorflow` backend, but only with the tfjs-core it
  // depends on: a copy other than ours (version mismatch) leaves ours without it.
  await loadTfjsNode();
  if (!tf.findBackendFactory('tensorflow')) throw new Error(`${TFJS_NODE} registered its backend with another @tensorflow/tfjs-core than ours`);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to start');
}

async function start(name: BackendName, loadTfjsNode = importTfjsNode): Promise<void> {
  if (name === 'wasm') await startWasm();
  else if (name === 'tensorflow') await startTensorflow(loadTfjsNode);
  else if (!(await tf.setBackend('cpu'))) throw new Error('the TensorFlow.js cpu backend failed to start');
  await tf.ready();
}

const started = new Map<string, Promise<BackendChoice>>();
let logged: string | undefined;
let defaultLog: ((line: string) => void) | undefined;

/**
 * Where the chosen backend is named when a caller passes no `log` (the CLI: stderr), so
 * the line appears when computing starts, whichever module starts it.
 */
export function logBackendTo(log: ((line: string) => void) | undefined): void {
  defaultLog = log;
}

/**
 * Starts the planned backend, falling back to wasm when a found tfjs-node fails to load.
 * `loadTfjsNode` is the import of tfjs-node (a parameter so the fallback can be exercised
 * where tfjs-node is not installed).
 */
export async function startBackend(plan: BackendChoice, loadTfjsNode = importTfjsNode): Promise<BackendChoice> {
  try {
    await start(plan.name, loadTfjsNode);
    return plan;
  } catch (error) {
    // An explicit choice fails loudly (in the main thread, before training starts). A found
    // tfjs-node that will not load (another tfjs-core, or a native addon a worker thread
    // refuses) is only an accelerator missed: compute on wasm.
    const message = (error as Error).message.split('\n')[0];
    if (plan.reason.startsWith(BACKEND_ENV) && isMainThread) throw new Error(`${BACKEND_ENV}=${plan.name}: ${message}`);
    await start('wasm');
    return { name: 'wasm', reason: `${TFJS_NODE} did not load (${message})` };
  }
}

/**
 * Starts the chosen backend (once per choice; later calls are free) and returns it. The
 * choice is named once, to `log` or else logBackendTo's sink; worker threads never log.
 */
export async function useTfBackend(options: { log?: (line: string) => void } = {}): Promise<BackendChoice> {
  const plan = planBackend(process.env[BACKEND_ENV], resolves(TFJS_NODE));
  const key = `${plan.name}:${plan.reason}`;
  let choice = started.get(key);
  if (!choice) {
    choice = startBackend(plan);
    started.set(key, choice);
  }
  const chosen = await choice;
  // Another call may have switched backends since this choice was first started.
  if (tf.getBackend() !== chosen.name) await start(chosen.name);
  const line = `tfjs backend: ${chosen.name} (${chosen.reason})`;
  const sink = options.log ?? defaultLog;
  if (sink && isMainThread && logged !== line) {
    logged = line;
    sink(line);
  }
  return chosen;
}

/**
 * The name the trainer modules call; it now selects as useTfBackend does (wasm unless
 * tfjs-node is installed or HUNCH_TFJS_BACKEND says otherwise).
 */
export async function useWasmBackend(): Promise<void> {
  await useTfBackend();
}
