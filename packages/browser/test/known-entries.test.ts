import type { CatalogItem } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { KnownEntries } from '../src/catalog.js';

const entry = (id: string, title = `Title ${id}`): CatalogItem => ({ id, title, url: `https://shop.example/p/${id}` });

describe('KnownEntries (the page’s catalog entries from the worker)', () => {
  it('asks only for ids it has not asked about, unknown products included', () => {
    const known = new KnownEntries();
    expect(known.missing(['a', 'b', 'a', 'ghost'])).toEqual(['a', 'b', 'ghost']);
    known.add('v1', [entry('a'), entry('b'), entry('top')], ['a', 'b', 'ghost']);
    expect(known.missing(['a', 'b', 'ghost', 'c'])).toEqual(['c']);
    expect([...known.of(['top', 'a', 'ghost', 'c']).keys()]).toEqual(['top', 'a']);
  });

  it('forgets the entries of an older model version (titles and prices may have changed)', () => {
    const known = new KnownEntries();
    known.add('v1', [entry('a', 'Old title'), entry('b')], ['a', 'b']);
    known.add('v2', [entry('a', 'New title')], ['a']);
    expect(known.of(['a'])).toEqual(new Map([['a', entry('a', 'New title')]]));
    expect(known.missing(['a', 'b'])).toEqual(['b']);
  });

  it('starts over past its limit', () => {
    const known = new KnownEntries(3);
    known.add('v1', [entry('a'), entry('b')], ['a', 'b']);
    known.add('v1', [entry('c'), entry('d')], ['c', 'd']);
    expect(known.missing(['a', 'b', 'c', 'd'])).toEqual(['a', 'b']);
  });
});
