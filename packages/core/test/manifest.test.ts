import { describe, expect, it } from 'vitest';
import { ENCODING_VERSION, parseManifest } from '../src/index.js';

const valid = {
  format: 'hunch-model',
  formatVersion: 1,
  version: 'abc123def456',
  createdAt: '2026-11-28T00:00:00.000Z',
  encoding: { version: ENCODING_VERSION, maxLength: 32 },
  vocabulary: ['[PAD]', '[BOS]', '[UNK]', 'item:a'],
  merges: [['r', 'e']],
  files: {},
  catalog: [{ id: 'a', title: 'A', url: '/a' }],
  popular: ['a'],
  training: { events: 1, sequences: 1, steps: 1, finalLoss: 1, seed: 1 },
};

describe('parseManifest', () => {
  it('accepts a valid manifest', () => {
    expect(parseManifest(valid)).toEqual(valid);
  });

  it.each([
    [null, /not a JSON object/],
    [{ ...valid, format: 'other' }, /format must be/],
    [{ ...valid, formatVersion: 2 }, /formatVersion 2 is not supported/],
    [{ ...valid, version: undefined }, /version is missing/],
    [{ ...valid, encoding: { version: ENCODING_VERSION + 1, maxLength: 32 } }, /encoding version/],
    [{ ...valid, encoding: { version: ENCODING_VERSION } }, /maxLength is missing/],
    [{ ...valid, vocabulary: [1, 2] }, /vocabulary must be/],
    [{ ...valid, merges: [['r']] }, /merges must be an array of string pairs/],
    [{ ...valid, catalog: {} }, /catalog must be an array/],
    [{ ...valid, popular: 'a' }, /popular must be an array/],
  ])('rejects a broken manifest (%#)', (input, message) => {
    expect(() => parseManifest(input)).toThrow(message);
  });
});
