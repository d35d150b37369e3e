/**
 * A training run's resumable state (not a checkpoint, which is a model: checkpoint.ts):
 * the weights, the AdamW moments, the best weights so far and the step with its history,
 * saved in a directory so that a resumed run repeats the computation of an uninterrupted
 * one. `state.json` holds the figures and names the numbers file beside it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/fs-atomic.js';
import type { SequenceTrainOptions, SequenceTrainResult } from '../train-sequences.js';

export interface RunState {
  format: 'hunch-train-state';
  version: 1;
  fingerprint: string;
  step: number;
  adamT: number;
  history: SequenceTrainResult['history'];
  bestStep: number;
  bestValMrr: number;
  badEvals: number;
  seconds: number;
  tokens: number;
  /** With a time budget: the total steps and validation interval fixed from the measured throughput (a resumed run keeps them). */
  budget?: { total: number; every: number; check?: number };
  /** The file in the state directory holding weights, AdamW moments and best weights. */
  tensors?: string;
}

/** What must match for a saved state to be resumed: everything that changes the computation. */
export function fingerprint(options: SequenceTrainOptions, vocab: number, sequences: number): string {
  // The time budget is left out: the steps it fixed are saved with the state (RunState.budget).
  const { log: _log, state: _state, stopAfter: _s, workerScript: _w, validation, workers: _k, init, clock: _c, timeBudget: _b, itemAttributes, distil, ...rest } = options;
  // Item attributes by a digest (a catalog's are large): FNV-1a over every token's ids and learned flag.
  let attributes: { count: number; digest: number } | undefined;
  if (itemAttributes) {
    let h = 0x811c9dc5;
    const mix = (x: number) => (h = Math.imul(h ^ (x + 1), 0x01000193) >>> 0);
    itemAttributes.byToken.forEach((ids, token) => {
      mix(-1);
      for (let i = 0; i < ids.length; i++) mix(ids[i]!);
      mix(itemAttributes.learned ? itemAttributes.learned[token]! : -2);
    });
    attributes = { count: itemAttributes.count, digest: h };
  }
  // Soft targets by their weight and size (the teacher's pass is deterministic).
  const soft = distil && distil.weight > 0 ? { distil: { weight: distil.weight, k: distil.targets.k, positions: distil.targets.ids.length / distil.targets.k } } : {};
  return JSON.stringify({ ...rest, ...(attributes ? { attributes } : {}), ...soft, init: init ? [...init.keys()].sort() : null, vocab, sequences, validation: validation ? { ...validation, sequences: validation.sequences.length } : null });
}

/**
 * Saves the state so that a kill at any moment leaves a loadable one: the numbers go to a
 * new file named by the step, then state.json (the commit point) is renamed over the old
 * one, then the previous numbers file is removed.
 */
export async function saveRunState(dir: string, state: RunState, arrays: Float32Array[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const previous = await readRunState(dir);
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const blob = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    blob.set(a, o);
    o += a.length;
  }
  const tensors = `tensors-${state.step}.bin`;
  await writeFileAtomic(join(dir, tensors), new Uint8Array(blob.buffer));
  await writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify({ ...state, tensors })}\n`);
  if (previous?.tensors && previous.tensors !== tensors) await rm(join(dir, previous.tensors), { force: true });
}

async function readRunState(dir: string): Promise<RunState | undefined> {
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as RunState;
}

/** Reads the state saved in `dir` into `arrays` (as saveRunState wrote them); undefined when there is none. */
export async function loadRunState(dir: string, arrays: Float32Array[]): Promise<RunState | undefined> {
  const state = await readRunState(dir);
  if (!state) return undefined;
  const bytes = await readFile(join(dir, state.tensors ?? 'tensors.bin'));
  const blob = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const total = arrays.reduce((n, a) => n + a.length, 0);
  if (blob.length !== total) throw new Error(`${dir}: the training state holds ${blob.length} numbers, expected ${total}`);
  let o = 0;
  for (const a of arrays) {
    a.set(blob.subarray(o, o + a.length));
    o += a.length;
  }
  return state;
}

/**
 * trainSequences' `state` option for a training-state directory given on a command line: a
 * directory that already holds state is continued only when `resume` says so, so a stale
 * state is never picked up by accident.
 */
export function stateDirectory(state: { dir: string; every: number; resume: boolean }, log: (line: string) => void): { dir: string; every: number } {
  const held = existsSync(state.dir) && readdirSync(state.dir).length > 0;
  if (held && !state.resume) throw new Error(`${state.dir} already holds training state: resume it (--resume) or remove it to start afresh`);
  if (!held && state.resume) log(`no training state in ${state.dir} yet: starting from step 0`);
  if (!Number.isInteger(state.every) || state.every < 1) throw new Error(`state must be saved every >= 1 steps, got ${state.every}`);
  return { dir: state.dir, every: state.every };
}
