import { describe, expect, it } from 'vitest';
import { uuid, uuidFromRandomBytes } from '../src/lib/ids.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('the getRandomValues path (insecure contexts) makes distinct RFC 4122 v4 UUIDs across pool refills', () => {
    const ids = Array.from({ length: 1000 }, () => uuidFromRandomBytes()); // ~4 pools of 256
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
    // Every random hex digit varies (a stuck byte would show as a constant column); 14 and 19 are the version and variant.
    const columns = Array.from({ length: 36 }, (_, i) => new Set(ids.map((id) => id[i])).size);
    expect(columns.filter((distinct, i) => ![8, 13, 14, 18, 19, 23].includes(i) && distinct < 8)).toEqual([]);
  });

  it('uuid() makes v4 UUIDs', () => {
    expect(uuid()).toMatch(V4);
  });
});
