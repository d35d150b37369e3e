/**
 * The item table of a Hunch export as the worker's own GPT-2 reads it (gpt2/weights.ts): int8
 * rows with one scale each (the int8 variant) or product-quantized codes and codebooks (pq),
 * serving as input embedding and, through its scorer, as the tied LM head.
 */
import { PQ_CENTROIDS } from '@hunch/core';
import { ItemScorer } from './scorer.js';
import { PqScorer } from './pq-scorer.js';
import { WebGpuPqScorer } from './pq-webgpu.js';
import type { ItemScoring } from '../protocol.js';

export type ItemTable =
  | { kind: 'int8'; rows: number; width: number; codes: Int8Array; scales: Float32Array }
  | { kind: 'pq'; rows: number; width: number; subspaces: number; codes: Uint8Array; codebooks: Float32Array; rotation?: Float32Array | undefined };

/** Writes row `token` of the table as floats into `into` (width floats): what the graph's embedding Gather gives. */
export function embedItem(table: ItemTable, token: number, into: Float32Array): void {
  const { width } = table;
  if (table.kind === 'int8') {
    const scale = table.scales[token]!;
    for (let d = 0; d < width; d++) into[d] = table.codes[token * width + d]! * scale;
    return;
  }
  const sub = width / table.subspaces;
  const { rotation } = table;
  // With OPQ the centroids are in the rotated space: row = reconstruction · rotationᵀ.
  const rotated = rotation ? new Float32Array(width) : into;
  for (let m = 0; m < table.subspaces; m++) {
    const from = (m * PQ_CENTROIDS + table.codes[token * table.subspaces + m]!) * sub;
    for (let j = 0; j < sub; j++) rotated[m * sub + j] = table.codebooks[from + j]!;
  }
  if (!rotation) return;
  for (let d = 0; d < width; d++) {
    let sum = 0;
    for (let j = 0; j < width; j++) sum += rotated[j]! * rotation[d * width + j]!;
    into[d] = sum;
  }
}

export interface TableScorer {
  itemScoring: ItemScoring;
  score(query: Float32Array, into: Float32Array): void | Promise<void>;
  dispose?(): void;
}

/**
 * The pq table scored on a real (not software) WebGPU adapter (pq-webgpu.ts), or undefined:
 * no adapter, a software one, an int8 table (onnxruntime's WebGPU runs those).
 */
export async function webgpuTableScorer(table: ItemTable, bias: Float32Array | undefined): Promise<TableScorer | undefined> {
  if (table.kind !== 'pq') return undefined;
  const { rows, width, subspaces, codes, codebooks, rotation } = table;
  const scorer = await WebGpuPqScorer.create({ rows, width, subspaces, codes, codebooks, rotation, bias }).catch(() => undefined);
  return scorer && { itemScoring: 'pq-webgpu', score: (query, into) => scorer.score(query, into), dispose: () => scorer.dispose() };
}

/** The SIMD scorer for the table (plus `bias`), or undefined where WebAssembly SIMD is missing. */
export function tableScorer(table: ItemTable, bias: Float32Array | undefined): TableScorer | undefined {
  const { rows, width } = table;
  if (table.kind === 'int8') {
    const scorer = ItemScorer.create({ query: 'query', rows, width, table: table.codes, scales: table.scales, bias });
    return scorer && { itemScoring: 'int8-simd', score: (query, into) => scorer.score(query, into) };
  }
  const scorer = PqScorer.create({ rows, width, subspaces: table.subspaces, codes: table.codes, codebooks: table.codebooks, rotation: table.rotation, bias });
  return scorer && { itemScoring: 'pq-simd', score: (query, into) => scorer.score(query, into) };
}
