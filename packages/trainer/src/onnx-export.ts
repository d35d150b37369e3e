/**
 * The ONNX export of the GPT-2: see onnx/gpt2.ts (the graph, with the KV cache and the
 * scoring heads), onnx/quantize.ts (int8 and 4-bit weights) and onnx/graph.ts (the builder).
 */
import type { GPT2Config } from './model.js';
import { buildGpt2Onnx, type OnnxVariant } from './onnx/gpt2.js';
import type { TensorMap } from './safetensors.js';

export { ONNX_IR_VERSION, ONNX_OPSET } from './onnx/graph.js';
export { ONNX_FILES, ONNX_VARIANTS, REPEAT_OUTPUT, exportedTable, type OnnxVariant } from './onnx/gpt2.js';

/** The serialised ONNX model (fp32 unless `variant` says int8 or q4). */
export function buildOnnxModel(config: GPT2Config, weights: TensorMap, variant: OnnxVariant = 'fp32'): Uint8Array {
  return buildGpt2Onnx(config, weights, variant);
}
