/**
 * The ONNX export of the GPT-2: see onnx/gpt2.ts (the graph, with the KV cache and the
 * scoring heads), onnx/quantize.ts (int8 and 4-bit weights) and onnx/graph.ts (the builder).
 */
import type { OnnxVariant } from '@hunch/core';
import type { GPT2Config } from './model.js';
import { buildGpt2Onnx } from './onnx/gpt2.js';
import type { TensorMap } from './safetensors.js';

export { ONNX_IR_VERSION, ONNX_OPSET } from './onnx/graph.js';
export { REPEAT_OUTPUT, exportedTable } from './onnx/gpt2.js';
/** The variants and their files are the model contract's (core model-contract.ts), which the browser reads too. */
export { ONNX_VARIANTS, ONNX_VARIANT_FILES as ONNX_FILES, type OnnxVariant } from '@hunch/core';

/** The serialised ONNX model (fp32 unless `variant` says int8 or q4). */
export function buildOnnxModel(config: GPT2Config, weights: TensorMap, variant: OnnxVariant = 'fp32'): Uint8Array {
  return buildGpt2Onnx(config, weights, variant);
}
