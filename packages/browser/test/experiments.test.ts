import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConsent } from '../src/consent.js';
import { createExperiments, HOLDOUT_KEY, holdoutOf, storedShopperId, variantFor } from '../src/experiments.js';
import { SHOPPER_KEY } from '../src/lib/names.js';

/** A localStorage for Node: a Map behind the Storage calls experiments.ts makes. */
class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem = (key: string) => this.map.get(key) ?? null;
  setItem = (key: string, value: string) => void this.map.set(key, value);
  removeItem = (key: string) => void this.map.delete(key);
}

const ids = Array.from({ length: 20_000 }, () => randomUUID());
const share = (outcomes: ReturnType<typeof variantFor>[], test: (o: ReturnType<typeof variantFor>) => boolean) => outcomes.filter(test).length / outcomes.length;
const is = (name: string) => (o: ReturnType<typeof variantFor>) => 'variant' in o && o.variant === name;

describe('variantFor (what experiment() answers for an id)', () => {
  it('splits ids by the weights, within sampling error', () => {
    const outcomes = ids.map((id) => variantFor(id, 'hero', ['control', 'big', 'small'], { weights: [2, 1, 1] }, null));
    // 20,000 ids: a share's standard error is under 0.4 points; 1.5 points is ~4 of them.
    expect(Math.abs(share(outcomes, is('control')) - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(share(outcomes, is('big')) - 0.25)).toBeLessThan(0.015);
    expect(Math.abs(share(outcomes, is('small')) - 0.25)).toBeLessThan(0.015);
  });

  it('enrolls the traffic share, and keeps the global holdout out of every experiment', () => {
    const holdout = holdoutOf(0.1);
    const outcomes = ids.map((id) => variantFor(id, 'hero', ['a', 'b'], { traffic: 0.5 }, holdout));
    const heldOut = share(outcomes, (o) => 'reason' in o && o.reason === 'holdout');
    expect(Math.abs(heldOut - 0.1)).toBeLessThan(0.015);
    // Of the other 90%, half enrolled, split evenly.
    expect(Math.abs(share(outcomes, (o) => 'reason' in o && o.reason === 'traffic') - 0.45)).toBeLessThan(0.015);
    expect(Math.abs(share(outcomes, is('a')) - 0.225)).toBeLessThan(0.015);
    expect(Math.abs(share(outcomes, is('b')) - 0.225)).toBeLessThan(0.015);
    // The same ids are held out of another experiment: the holdout has its own key.
    const other = ids.map((id) => variantFor(id, 'footer', ['a', 'b'], {}, holdout));
    expect(other.map((o) => 'reason' in o)).toEqual(outcomes.map((o) => 'reason' in o && o.reason === 'holdout'));
  });

  it('is sticky, not enrolled without an id, and off without a holdout share', () => {
    for (const id of ids.slice(0, 100)) expect(variantFor(id, 'hero', ['a', 'b'], {}, null)).toEqual(variantFor(id, 'hero', ['a', 'b'], {}, null));
    expect(variantFor(undefined, 'hero', ['a', 'b'], {}, null)).toEqual({ reason: 'consent' });
    expect(holdoutOf(undefined)).toBeNull();
    expect(holdoutOf(0)).toBeNull();
    expect(holdoutOf(0.1)).toEqual({ key: 'hunch-holdout', share: 0.1 });
  });
});

describe('createExperiments', () => {
  let storage: MemoryStorage;
  beforeEach(() => {
    storage = new MemoryStorage();
    (globalThis as { localStorage?: unknown }).localStorage = storage;
  });
  afterEach(() => {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });

  it('makes no id before storage consent, then one that every answer sticks to, erased on withdrawal and forget()', () => {
    const consent = createConsent({ requireConsent: true, storage: null, crossTab: false });
    const experiments = createExperiments(consent);
    expect(experiments.experiment('hero', ['a', 'b'])).toBeNull();
    expect(experiments.heldOut()).toBe(false);
    expect(storage.map.size).toBe(0);

    consent.update({ personalization_storage: 'granted' });
    const variant = experiments.experiment('hero', ['a', 'b']);
    const id = storage.map.get(SHOPPER_KEY)!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(variant).toBe((variantFor(id, 'hero', ['a', 'b'], {}, null) as { variant: string }).variant);
    // Another page (a new instance) reads the same id: the same variant.
    expect(createExperiments(consent).experiment('hero', ['a', 'b'])).toBe(variant);
    expect(storage.map.get(SHOPPER_KEY)).toBe(id);
    expect(experiments.tally()).toEqual({ hero: { variants: { [variant!]: 1 }, notEnrolled: { consent: 1 } } });

    consent.update({ personalization_storage: 'denied' });
    expect(storage.map.has(SHOPPER_KEY)).toBe(false);
    consent.update({ personalization_storage: 'granted' });
    experiments.experiment('hero', ['a', 'b']);
    expect(storage.map.get(SHOPPER_KEY)).not.toBe(id);
    consent.forget();
    expect(storage.map.has(SHOPPER_KEY)).toBe(false);
  });

  it('holds out the shoppers core puts in the holdout, and answers null for them', () => {
    const consent = createConsent({ storage: null, crossTab: false });
    const held = ids.find((id) => 'reason' in variantFor(id, 'x', ['a'], {}, holdoutOf(0.1)))!;
    const kept = ids.find((id) => !('reason' in variantFor(id, 'x', ['a'], {}, holdoutOf(0.1))))!;
    storage.setItem(SHOPPER_KEY, held);
    const experiments = createExperiments(consent, 0.1);
    expect(experiments.heldOut()).toBe(true);
    expect(experiments.experiment('hero', ['a', 'b'])).toBeNull();
    expect(experiments.tally().hero!.notEnrolled).toEqual({ holdout: 1 });
    // Without a holdout share nobody is held out (backwards compatible).
    expect(createExperiments(consent).heldOut()).toBe(false);
    storage.setItem(SHOPPER_KEY, kept);
    expect(experiments.heldOut()).toBe(false);
  });

  it('answers null (and throws nothing) for a misconfigured experiment', () => {
    const experiments = createExperiments(createConsent({ storage: null, crossTab: false }));
    expect(experiments.experiment('hero', [])).toBeNull();
    expect(experiments.experiment('hero', ['a', 'b'], { weights: [1] })).toBeNull();
    expect(experiments.experiment('hero', ['a', 'b'], { traffic: 2 })).toBeNull();
  });

  it('variantOf: what this page gave for a key (for exposures), the holdout variant, and nothing without an id', () => {
    const consent = createConsent({ storage: null, crossTab: false });
    const held = ids.find((id) => 'reason' in variantFor(id, 'x', ['a'], {}, holdoutOf(0.1)))!;
    const kept = ids.find((id) => !('reason' in variantFor(id, 'x', ['a'], {}, holdoutOf(0.1))))!;
    // No id yet: nothing to expose, and asking makes none.
    const experiments = createExperiments(consent, 0.1);
    expect(experiments.variantOf(HOLDOUT_KEY)).toBeNull();
    expect(storage.map.size).toBe(0);

    storage.setItem(SHOPPER_KEY, kept);
    expect(experiments.variantOf('hero')).toBeUndefined(); // not asked on this page
    const variant = experiments.experiment('hero', ['a', 'b']);
    expect(experiments.variantOf('hero')).toBe(variant);
    expect(experiments.variantOf(HOLDOUT_KEY)).toBe('personalised');
    expect(createExperiments(consent).variantOf(HOLDOUT_KEY)).toBeNull(); // holdout off

    storage.setItem(SHOPPER_KEY, held);
    expect(experiments.variantOf(HOLDOUT_KEY)).toBe('holdout');
    expect(experiments.experiment('hero', ['a', 'b'])).toBeNull();
    expect(experiments.variantOf('hero')).toBeNull(); // held out now: not enrolled

    storage.setItem(SHOPPER_KEY, kept);
    experiments.experiment('hero', ['a', 'b']);
    consent.forget(); // the id is erased: what was given before is not exposed
    expect(experiments.variantOf('hero')).toBeNull();
  });

  it('storedShopperId reads the id without making one, and only in the format events take', () => {
    expect(storedShopperId()).toBeUndefined();
    expect(storage.map.size).toBe(0);
    storage.setItem(SHOPPER_KEY, ids[0]!);
    expect(storedShopperId()).toBe(ids[0]);
    storage.setItem(SHOPPER_KEY, 'jane@example.com');
    expect(storedShopperId()).toBeUndefined();
  });
});
