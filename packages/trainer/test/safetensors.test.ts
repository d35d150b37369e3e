import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from '../src/safetensors.js';

describe('safetensors', () => {
  it('round-trips float32 tensors, names, shapes and metadata', () => {
    const tensors: TensorMap = new Map([
      ['transformer.wte.weight', { shape: [3, 2], data: Float32Array.of(1, -2, 3.5, 1e-7, -0, 3.4e38) }],
      ['transformer.ln_f.bias', { shape: [2], data: Float32Array.of(0.25, -0.125) }],
      ['scalar', { shape: [], data: Float32Array.of(42) }],
    ]);
    const bytes = encodeSafetensors(tensors);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0); // data 8-byte aligned
    const { tensors: back, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...back.keys()]).toEqual([...tensors.keys()]);
    for (const [name, tensor] of tensors) {
      expect(back.get(name)!.shape).toEqual(tensor.shape);
      expect([...back.get(name)!.data]).toEqual([...tensor.data]);
    }
  });

  it('rejects a tensor whose byte range does not match its shape', () => {
    const bytes = encodeSafetensors(new Map([['w', { shape: [2], data: Float32Array.of(1, 2) }]]));
    const text = new TextDecoder().decode(bytes).replace('"shape":[2]', '"shape":[3]');
    expect(() => decodeSafetensors(new TextEncoder().encode(text))).toThrow(/tensor w/);
  });

  it('rejects a shape that the data does not fill', () => {
    expect(() => encodeSafetensors(new Map([['w', { shape: [2, 2], data: Float32Array.of(1, 2) }]]))).toThrow(/tensor w/);
  });
});
