import { describe, expect, it } from 'vitest';
import { attributeFieldsError, catalogJson, indexCatalog, priceBucket, productAttributes } from '../src/index.js';

describe('item attributes', () => {
  it('names category, brand, attributes, price bucket and title words, each once', () => {
    const names = productAttributes({ title: 'Blue Mug, blue — 350 ml', category: 'mugs', brand: 'Acme', attributes: ['stoneware', 'blue'], price: 12 });
    expect(names.sort()).toEqual(['attribute:blue', 'attribute:stoneware', 'brand:Acme', 'category:mugs', `price:${priceBucket(12)}`, 'title:350', 'title:blue', 'title:mug'].sort());
    expect(productAttributes({ title: 'X' })).toEqual([]);
  });

  it('ignores fields of the wrong type (a catalog the browser reads is not re-validated)', () => {
    expect(productAttributes({ title: 'Zz', category: 7, attributes: 'red', price: '12' } as never)).toEqual([]);
  });

  it('puts prices half an octave apart in neighbouring buckets, and none for no price', () => {
    expect(priceBucket(10)).toBe(priceBucket(11));
    expect(priceBucket(10)! + 1).toBe(priceBucket(15));
    expect(priceBucket(10)! + 2).toBe(priceBucket(20));
    expect(priceBucket(0)).toBeUndefined();
    expect(priceBucket(undefined)).toBeUndefined();
  });

  it.each([
    [{ category: 3 }, 'products[4].category must be a string'],
    [{ brand: ['a'] }, 'products[4].brand must be a string'],
    [{ attributes: 'red' }, 'products[4].attributes must be an array of non-empty strings'],
    [{ attributes: ['red', ''] }, 'products[4].attributes must be an array of non-empty strings'],
    [{ price: -1 }, 'products[4].price must be a number of at least 0'],
    [{ category: 'mugs', brand: 'Acme', attributes: ['red'], price: 3 }, undefined],
  ])('checks the attribute fields: %j', (fields, error) => {
    expect(attributeFieldsError({ id: 'p', title: 't', url: '/', ...fields } as never, 4)).toBe(error);
  });

  it("lists every product's id from catalog.json, scanned or parsed", () => {
    const products = [{ id: 'a', title: 'A', url: '/a' }, { id: 'b', title: 'B', url: '/b', attributes: ['x'] }];
    expect(indexCatalog(catalogJson({ popular: [], products })).ids()).toEqual(['a', 'b']);
    expect(indexCatalog(JSON.stringify({ format: 'hunch-catalog', formatVersion: 1, popular: [], products })).ids()).toEqual(['a', 'b']);
  });
});
