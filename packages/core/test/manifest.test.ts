import { describe, expect, it } from 'vitest';
import { ENCODING_VERSION, parseCatalog, parseManifest } from '../src/index.js';
import { manifestWith } from './manifest-fixture.js';

const valid = manifestWith();

const onnx = {
  variants: { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx', q4: 'onnx/model_q4.onnx' },
  cache: { layers: 2, heads: 2, headDim: 16 },
  itemBias: true,
  cosineScale: 14,
  repeat: { output: 'hunch_repeat', addTo: 'history-items' },
};
const withOnnx = (changes: Record<string, unknown>) => ({ ...valid, onnx: { ...onnx, ...changes } });

describe('parseManifest', () => {
  it('accepts a valid manifest', () => {
    expect(parseManifest(valid)).toEqual(valid);
  });

  it('accepts the onnx field, with or without heads, and ignores variants it does not know', () => {
    expect(parseManifest({ ...valid, onnx })).toEqual({ ...valid, onnx });
    const plain = withOnnx({ variants: { q4: 'onnx/model_q4.onnx', fp16: 'onnx/model_fp16.onnx' }, itemBias: false, cosineScale: null, repeat: null });
    expect(parseManifest(plain).onnx?.variants.q4).toBe('onnx/model_q4.onnx');
  });

  it('accepts a policy listed in files with its hash; absent, there is none', () => {
    const policy = 'cd'.repeat(32);
    const withPolicy = { ...valid, policy: 'policy.json', files: { ...valid.files, 'policy.json': { sha256: policy, bytes: 120 } } };
    expect(parseManifest(withPolicy)).toEqual(withPolicy);
    expect(parseManifest(valid).policy).toBeUndefined();
    expect(parseManifest({ ...withPolicy, policy: 'policies/v2.json', files: { ...valid.files, 'policies/v2.json': { sha256: policy, bytes: 1 } } }).policy).toBe('policies/v2.json');
  });

  it.each([
    [{ ...valid, policy: 'policy.json' }, /policy must name a file of the model directory that files lists with its sha256 and bytes, got "policy.json"/],
    [{ ...valid, policy: 'policy.json', files: { ...valid.files, 'policy.json': { sha256: 'ab', bytes: 1 } } }, /policy must name a file .* with its sha256/],
    [{ ...valid, policy: 'policy.json', files: { ...valid.files, 'policy.json': { sha256: 'ab'.repeat(32) } } }, /policy must name a file/],
    [{ ...valid, policy: 42 }, /policy must name a file .*, got 42$/],
    [{ ...valid, policy: '' }, /policy must name a file/],
    [{ ...valid, policy: '../policy.json', files: { ...valid.files, '../policy.json': { sha256: 'ab'.repeat(32), bytes: 1 } } }, /policy must name a file/],
    [{ ...valid, policy: 'models/../policy.json', files: { ...valid.files, 'models/../policy.json': { sha256: 'ab'.repeat(32), bytes: 1 } } }, /policy must name a file/],
    [{ ...valid, policy: './policy.json', files: { ...valid.files, './policy.json': { sha256: 'ab'.repeat(32), bytes: 1 } } }, /policy must name a file/],
    [{ ...valid, policy: 'https://elsewhere.test/policy.json' }, /policy must name a file/],
    [{ ...valid, policy: '/policy.json' }, /policy must name a file/],
    [{ ...valid, policy: 'toString' }, /policy must name a file .*, got "toString"/],
  ])('rejects a malformed policy entry (%#)', (input, message) => {
    expect(() => parseManifest(input)).toThrow(message);
  });

  it('accepts a purchase model listed in files with its hash, and rejects one that is not', () => {
    const entry = { sha256: 'ef'.repeat(32), bytes: 200 };
    const withPurchase = { ...valid, purchase: 'purchase.json', files: { ...valid.files, 'purchase.json': entry } };
    expect(parseManifest(withPurchase)).toEqual(withPurchase);
    expect(parseManifest(valid).purchase).toBeUndefined();
    expect(() => parseManifest({ ...valid, purchase: 'purchase.json' })).toThrow(/purchase must name a file of the model directory that files lists with its sha256 and bytes, got "purchase.json"/);
    expect(() => parseManifest({ ...valid, purchase: '../purchase.json', files: { ...valid.files, '../purchase.json': entry } })).toThrow(/purchase must name a file/);
    expect(() => parseManifest({ ...withPurchase, files: { ...valid.files, 'purchase.json': { sha256: 'ef', bytes: 1 } } })).toThrow(/purchase must name a file/);
  });

  it('reads the shipped demo model manifest and its catalog', async () => {
    const { readFile } = await import('node:fs/promises');
    const demo = JSON.parse(await readFile(new URL('../../../models/demo/hunch.json', import.meta.url), 'utf8')) as unknown;
    expect(parseManifest(demo).onnx?.variants).toMatchObject({ fp32: 'onnx/model.onnx' });
    const catalog = parseCatalog(JSON.parse(await readFile(new URL('../../../models/demo/catalog.json', import.meta.url), 'utf8')));
    expect(catalog.products.length).toBeGreaterThan(100);
    expect(catalog.popular.length).toBe(catalog.products.length);
  });

  it.each([
    [{ ...valid, onnx: 'yes' }, /onnx must be an object/],
    [withOnnx({ variants: ['onnx/model.onnx'] }), /onnx.variants must be an object/],
    [withOnnx({ variants: {} }), /onnx.variants names none of fp32, int8, q4/],
    [withOnnx({ variants: { q4: 'onnx/model_4bit.onnx' } }), /onnx.variants.q4 must be "onnx\/model_q4.onnx"/],
    [withOnnx({ cache: { layers: 2, heads: 0, headDim: 16 } }), /onnx.cache must be/],
    [withOnnx({ cache: undefined }), /onnx.cache must be/],
    [withOnnx({ itemBias: 'no' }), /onnx.itemBias must be true or false/],
    [withOnnx({ cosineScale: -1 }), /onnx.cosineScale must be a positive number or null/],
    [withOnnx({ cosineScale: undefined }), /onnx.cosineScale/],
    [withOnnx({ repeat: undefined }), /onnx.repeat must be null or/],
    [withOnnx({ repeat: { output: '', addTo: 'history-items' } }), /onnx.repeat must be null or/],
    [withOnnx({ repeat: { output: 'hunch_repeat', addTo: 'everything' } }), /onnx.repeat.addTo "everything" is not supported/],
  ])('rejects a malformed onnx field (%#)', (input, message) => {
    expect(() => parseManifest(input)).toThrow(message);
  });

  it.each([
    [null, /not a JSON object/],
    [{ ...valid, format: 'other' }, /format must be/],
    [{ ...valid, formatVersion: 3 }, /formatVersion 3 is not supported/],
    [{ ...valid, formatVersion: 1 }, /formatVersion 1 is not supported \(expected 2\): export the model again/],
    [{ ...valid, version: undefined }, /version is missing/],
    [{ ...valid, encoding: { version: ENCODING_VERSION + 1, maxLength: 32 } }, /encoding version/],
    [{ ...valid, encoding: { version: ENCODING_VERSION } }, /maxLength is missing/],
    [{ ...valid, vocabulary: [1, 2] }, /vocabulary must be/],
    [{ ...valid, merges: [['r']] }, /merges must be an array of string pairs/],
    [{ ...valid, files: [] }, /files must be an object/],
    [{ ...valid, files: {} }, /files must list catalog.json/],
    [{ ...valid, files: { 'catalog.json': { sha256: 'ab' } } }, /files must list catalog.json \(or catalog\/index.json\) with its sha256 and bytes/],
  ])('rejects a broken manifest (%#)', (input, message) => {
    expect(() => parseManifest(input)).toThrow(message);
  });
});
