import { describe, expect, it } from 'vitest';
import { fromFloat16Bits, toFloat16Bits } from '../src/index.js';

describe('half floats', () => {
  it('encode known values, rounding to nearest even', () => {
    const values = Float32Array.of(1, -2, 0.1, 1 / 3, 65504, 65520, 1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.5, 0, -0, Infinity, 1 + 2 ** -11, 1 + 3 * 2 ** -11);
    expect([...toFloat16Bits(values)].map((bits) => bits.toString(16))).toEqual(
      ['3c00', 'c000', '2e66', '3555', '7bff', '7c00', '7c00', '1', '0', '1', '0', '8000', '7c00', '3c00', '3c02'],
    );
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(Float32Array.of(NaN)))[0])).toBe(true);
  });

  it('read back every finite half float exactly, and write it back to the same bits', () => {
    const all = Uint16Array.from({ length: 0x10000 }, (_, bits) => bits).filter((bits) => (bits & 0x7c00) !== 0x7c00);
    const values = fromFloat16Bits(all);
    expect(values[all.indexOf(0x3c00)]).toBe(1);
    expect(values[all.indexOf(0x0001)]).toBe(2 ** -24);
    expect(toFloat16Bits(values)).toEqual(all);
  });
});
