import { describe, expect, it } from 'vitest';
import type { OnnxManifest } from '@hunch/core';
import { availableDtypes, chooseDtype, isModelDtype } from '../src/worker/variant.js';

const onnx = (variants: OnnxManifest['variants']): { onnx: OnnxManifest } => ({
  onnx: { variants, cache: { layers: 2, heads: 2, headDim: 16 }, itemBias: false, cosineScale: null, repeat: null },
});
const all = onnx({ fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx', q4: 'onnx/model_q4.onnx' });

describe('chooseDtype', () => {
  it('loads q4 on WebGPU and int8 (q8) on WASM by default', () => {
    expect(chooseDtype(all, 'webgpu')).toEqual({ dtype: 'q4', file: 'onnx/model_q4.onnx', reason: 'q4 is the default on webgpu' });
    expect(chooseDtype(all, 'wasm')).toEqual({ dtype: 'q8', file: 'onnx/model_quantized.onnx', reason: 'q8 is the default on wasm' });
  });

  it('honours an override', () => {
    expect(chooseDtype(all, 'webgpu', 'fp32')).toMatchObject({ dtype: 'fp32', file: 'onnx/model.onnx', reason: 'fp32 requested' });
    expect(chooseDtype(all, 'wasm', 'q4')).toMatchObject({ dtype: 'q4', file: 'onnx/model_q4.onnx' });
  });

  it('falls back to fp32 when the preferred or requested file is absent', () => {
    const fp32AndQ4 = onnx({ fp32: 'onnx/model.onnx', q4: 'onnx/model_q4.onnx' });
    expect(chooseDtype(fp32AndQ4, 'wasm')).toEqual({
      dtype: 'fp32',
      file: 'onnx/model.onnx',
      reason: 'q8 is the default on wasm but the model has no onnx/model_quantized.onnx',
    });
    expect(chooseDtype(fp32AndQ4, 'webgpu')).toMatchObject({ dtype: 'q4' });
    expect(chooseDtype(onnx({ fp32: 'onnx/model.onnx' }), 'webgpu', 'q8')).toMatchObject({ dtype: 'fp32', reason: expect.stringMatching(/^q8 requested but/) });
  });

  it('takes what there is when fp32 is absent too', () => {
    expect(chooseDtype(onnx({ q4: 'onnx/model_q4.onnx' }), 'wasm')).toMatchObject({ dtype: 'q4', file: 'onnx/model_q4.onnx' });
    expect(chooseDtype(onnx({ int8: 'onnx/model_quantized.onnx', q4: 'onnx/model_q4.onnx' }), 'wasm', 'fp32')).toMatchObject({ dtype: 'q8' });
  });

  it('treats a manifest without onnx (an older export) as fp32 only', () => {
    expect(availableDtypes({})).toEqual(['fp32']);
    expect(chooseDtype({}, 'webgpu')).toMatchObject({ dtype: 'fp32', file: 'onnx/model.onnx' });
  });

  it('fails on a model with no variant it can load', () => {
    expect(() => chooseDtype(onnx({}), 'wasm')).toThrow(/no ONNX variant/);
  });
});

describe('isModelDtype', () => {
  it('accepts the three dtypes only', () => {
    expect(['fp32', 'q8', 'q4'].every(isModelDtype)).toBe(true);
    expect(['int8', 'fp16', 'q4f16', '', undefined].some(isModelDtype)).toBe(false);
  });
});
