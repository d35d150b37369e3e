import { describe, expect, it } from 'vitest';
import { catalogJson, indexCatalog, parseCatalog, type CatalogItem } from '../src/index.js';

const products = [
  { id: 'a', title: 'A "quoted" mug', url: 'https://shop.example/a', price: 9.5, category: 'mugs' },
  { id: 'b', title: 'B', url: '/b' },
];

describe('catalog.json', () => {
  it('round-trips through catalogJson: one product per line', () => {
    const text = catalogJson({ popular: ['b', 'a'], products });
    expect(parseCatalog(JSON.parse(text))).toEqual({ format: 'hunch-catalog', formatVersion: 1, popular: ['b', 'a'], products });
    const lines = text.split('\n');
    expect(lines.filter((line) => line.startsWith('{"id":'))).toHaveLength(products.length);
  });

  it('writes an empty catalog that parses', () => {
    expect(parseCatalog(JSON.parse(catalogJson({ popular: [], products: [] }))).products).toEqual([]);
  });

  const valid = { format: 'hunch-catalog', formatVersion: 1, popular: ['a'], products };
  it.each([
    [null, /not a JSON object/],
    [{ ...valid, format: 'hunch-model' }, /format must be "hunch-catalog"/],
    [{ ...valid, formatVersion: 2 }, /formatVersion 2 is not supported/],
    [{ ...valid, popular: 'a' }, /popular must be an array of item ids/],
    [{ ...valid, popular: [1] }, /popular must be an array of item ids/],
    [{ ...valid, products: {} }, /products must be an array/],
    [{ ...valid, products: [{ id: 'a' }, { title: 'no id' }] }, /products\[1\] has no string id/],
    [{ ...valid, products: [null] }, /products\[0\] has no string id/],
  ])('rejects a broken catalog (%#)', (input, message) => {
    expect(() => parseCatalog(input)).toThrow(message);
  });
});

describe('indexCatalog', () => {
  // Ids and categories a scanner could trip on: quotes, backslashes, escapes, non-ASCII, commas and braces.
  const tricky: CatalogItem[] = [
    { title: 'keys out of order', url: '/k', category: 'mugs', id: 'k-1', price: 3 },
    { id: 'q"uote', title: 'Q', url: '/q', category: 'a "quoted" category' },
    { id: 'back\\slash\\', title: 'B', url: '/b' },
    { id: 'ünï-código-🍵', title: 'Tea 🍵', url: '/t', category: 'thé' },
    { id: '{"id":"fake"},', title: '},\n{', url: '/f', category: '' },
    { id: 'tab\there', title: 'T', url: '/tab', image: 'https://img.example/t.png' },
  ];
  const popular = tricky.map((item) => item.id).reverse();
  const everyAnswer = (index: ReturnType<typeof indexCatalog>, ids: string[]) =>
    ids.map((id) => ({ entry: index.entry(id), category: index.category(id) }));
  const ids = [...tricky.map((item) => item.id), 'absent', 'fake', ''];
  const expected = ids.map((id) => {
    const item = tricky.find((product) => product.id === id);
    return { entry: item, category: item?.category };
  });

  it('answers as the parsed catalog does, from catalogJson’s layout', () => {
    const text = catalogJson({ popular, products: tricky });
    const index = indexCatalog(text);
    expect(index.popular).toEqual(popular);
    expect(everyAnswer(index, ids)).toEqual(expected);
    // The layout it scans: the id first, the category second.
    expect(text.split('\n').find((line) => line.includes('keys out of order'))).toMatch(/^\{"id":"k-1","category":"mugs",/);
  });

  it('parses a product only when it is asked for', () => {
    // One line broken after its id and category: a whole parse would throw; the scan does not look.
    const text = catalogJson({ popular, products: tricky }).replace('"title":"Q"', '"title":Q"');
    expect(() => JSON.parse(text)).toThrow();
    const index = indexCatalog(text);
    expect(index.category('q"uote')).toBe('a "quoted" category');
    expect(index.entry('q"uote')).toBeUndefined(); // as if absent
    expect(index.entry('k-1')).toEqual(tricky[0]);
  });

  it('parses any other layout whole and answers the same', () => {
    const pretty = JSON.stringify({ format: 'hunch-catalog', formatVersion: 1, popular, products: tricky }, null, 2);
    expect(everyAnswer(indexCatalog(pretty), ids)).toEqual(expected);
    // catalogJson's frame around lines that are not its own: parsed whole, too.
    const foreign = catalogJson({ popular, products: tricky }).replace('{"id":"k-1","category":"mugs",', '{"category":"mugs","id":"k-1",');
    expect(everyAnswer(indexCatalog(foreign), ids)).toEqual(expected);
  });

  it('indexes an empty catalog', () => {
    const index = indexCatalog(catalogJson({ popular: [], products: [] }));
    expect(index.popular).toEqual([]);
    expect(index.entry('a')).toBeUndefined();
  });

  it('refuses what is not a catalog, with parseCatalog’s messages', () => {
    expect(() => indexCatalog('{"format": "hunch-catalog"')).toThrow(/catalog.json: not valid JSON/);
    const text = catalogJson({ popular, products: tricky });
    expect(() => indexCatalog(text.replace('"formatVersion": 1', '"formatVersion": 2'))).toThrow(/formatVersion 2 is not supported/);
    expect(() => indexCatalog(text.replace('"popular": [', '"popular": [1,'))).toThrow(/popular must be an array of item ids/);
    expect(() => indexCatalog(text.replace('{"id":"k-1",', '{"id":7,'))).toThrow(/products\[0\] has no string id/);
  });
});
