import { ENCODING_VERSION } from '../src/index.js';

/** A hunch.json parseManifest accepts (one item, catalog.json), with `fields` in place of its own. */
export const manifestWith = (fields: Record<string, unknown> = {}) => ({
  format: 'hunch-model',
  formatVersion: 2,
  version: 'abc123def456',
  createdAt: '2026-11-28T00:00:00.000Z',
  encoding: { version: ENCODING_VERSION, maxLength: 32 },
  vocabulary: ['[PAD]', '[BOS]', '[UNK]', 'item:a'],
  merges: [['r', 'e']] as string[][],
  files: { 'catalog.json': { sha256: 'ab'.repeat(32), bytes: 10 } } as Record<string, { sha256: string; bytes: number }>,
  training: { events: 1, sequences: 1, steps: 1, finalLoss: 1, seed: 1 },
  ...fields,
});
