/**
 * Which ONNX file the worker loads: hunch.json `onnx.variants` lists what the export wrote
 * (fp32 onnx/model.onnx, int8 onnx/model_quantized.onnx, 4-bit onnx/model_q4.onnx).
 */
import { ONNX_VARIANT_FILES, type HunchManifest, type OnnxVariant } from '@hunch/core';
import type { Backend, ModelDtype } from './protocol.js';

/** transformers.js `dtype` for each exported variant (it maps the dtype to the file name). */
const DTYPE_OF: Readonly<Record<OnnxVariant, ModelDtype>> = { fp32: 'fp32', int8: 'q8', q4: 'q4', pq: 'pq' };
const VARIANT_OF: Readonly<Record<ModelDtype, OnnxVariant>> = { fp32: 'fp32', q8: 'int8', q4: 'q4', pq: 'pq' };
export const MODEL_DTYPES: readonly ModelDtype[] = ['fp32', 'q8', 'q4', 'pq'];

/**
 * What transformers.js is asked for: its own dtype, and for pq (a file it has no dtype for)
 * fp32, whose file the worker answers with model_pq.onnx (ort/runtime.ts ModelFileRewrite).
 */
export const transformersDtype = (dtype: ModelDtype): Exclude<ModelDtype, 'pq'> => (dtype === 'pq' ? 'fp32' : dtype);

export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && (MODEL_DTYPES as readonly string[]).includes(value);
}

/**
 * The default per backend: 4-bit on WebGPU (MatMulNBits runs on the GPU, smallest
 * download), int8 on WASM (its weights are folded to fp32 once at load: small download,
 * fp32 speed).
 */
export const PREFERRED_DTYPE: Readonly<Record<Backend, ModelDtype>> = { webgpu: 'q4', wasm: 'q8' };

export interface DtypeChoice {
  dtype: ModelDtype;
  /** The file transformers.js will fetch, relative to the model directory. */
  file: string;
  reason: string;
}

/** The file a WASM load will most likely read, before hunch.json says (chooseDtype decides, from it). */
export function likelyWasmFile(requested?: ModelDtype): string {
  return ONNX_VARIANT_FILES[VARIANT_OF[requested ?? PREFERRED_DTYPE.wasm]];
}

/** The variants a manifest offers; one without `onnx` predates quantized exports: fp32 only. */
export function availableDtypes(manifest: Pick<HunchManifest, 'onnx'>): ModelDtype[] {
  if (!manifest.onnx) return ['fp32'];
  return (Object.keys(DTYPE_OF) as OnnxVariant[]).filter((variant) => manifest.onnx!.variants[variant] !== undefined).map((variant) => DTYPE_OF[variant]);
}

/**
 * The requested dtype (`override`), else the backend's preferred one, if the model has it;
 * otherwise fp32, otherwise whatever the model has (q8, q4, then pq: an export of a million
 * items may carry pq alone). Never fails on a model
 * with at least one variant: a missing file costs a bigger download, not recommendations.
 */
export function chooseDtype(manifest: Pick<HunchManifest, 'onnx'>, backend: Backend, override?: ModelDtype): DtypeChoice {
  const available = availableDtypes(manifest);
  const wanted = override ?? PREFERRED_DTYPE[backend];
  const why = override ? `${override} requested` : `${wanted} is the default on ${backend}`;
  const pick = (dtype: ModelDtype, reason: string): DtypeChoice => ({ dtype, file: ONNX_VARIANT_FILES[VARIANT_OF[dtype]], reason });
  if (available.includes(wanted)) return pick(wanted, why);
  const fallback = (['fp32', 'q8', 'q4', 'pq'] as const).find((dtype) => available.includes(dtype));
  if (!fallback) throw new Error('hunch.json lists no ONNX variant this SDK can load');
  return pick(fallback, `${why} but the model has no ${ONNX_VARIANT_FILES[VARIANT_OF[wanted]]}`);
}
