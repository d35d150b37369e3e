/**
 * Synthetic event streams for the `hunch report` tests, with a known truth: shoppers assigned to
 * arms by weights, each exposed (experience_impression) on a placement, then converting with
 * their arm's probability. A latent propensity links the pre-exposure and post-exposure
 * purchases, so CUPED has a covariate that correlates.
 */
import { EXPOSURE_EVENT, type HunchEvent } from '@hunch/core';

/** sfc32 seeded through splitmix32: nearby seeds give unrelated streams. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((sum, w) => sum + w, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

export interface SyntheticArm {
  variant: string;
  weight: number;
  /** Probability of a purchase after exposure (for a shopper of average propensity). */
  conversion: number;
  /** Probability of a click per recommendation tile seen. */
  clickRate?: number;
}

export interface SyntheticOptions {
  experiment: string;
  arms: SyntheticArm[];
  shoppers: number;
  seed: number;
  days?: number;
  /** The placement (item_list_id) of the exposures; none when null. */
  list?: string | null;
  /** The first day's midnight (ms). */
  start?: number;
}

export const DAY = 86_400_000;
export const START = Date.UTC(2026, 10, 2);

/** The events, in time order, and each shopper's arm. */
export function syntheticExperiment(o: SyntheticOptions): { events: HunchEvent[]; arms: string[] } {
  const rng = new Rng(o.seed);
  const days = o.days ?? 14;
  const start = o.start ?? START;
  const list = o.list === undefined ? 'home' : o.list;
  const events: HunchEvent[] = [];
  const arms: string[] = [];
  let n = 0;
  const event = (name: HunchEvent['name'], ts: number, shopperId: string | undefined, session: string, params: HunchEvent['params']) => {
    const e: HunchEvent = { id: `${o.experiment}-${o.seed}-${n++}`, name, ts, sessionId: session, params };
    if (shopperId) e.shopperId = shopperId;
    events.push(e);
  };
  for (let s = 0; s < o.shoppers; s++) {
    const arm = o.arms[rng.weighted(o.arms.map((a) => a.weight))]!;
    arms.push(arm.variant);
    const id = `shopper-${o.seed}-${String(s).padStart(6, '0')}`;
    const session = `session-${o.seed}-${s}`;
    // Propensity: 1/3 of shoppers are keen (3x), the rest a bit below average, mean 1.
    const keen = rng.next() < 1 / 3;
    const propensity = keen ? 1.8 : 0.6;
    const arrival = start + rng.int(days) * DAY + rng.int(DAY - 3_600_000);
    // Pre-period: an earlier visit, a week before, where keen shoppers buy more often.
    if (rng.next() < 0.3 * propensity) event('purchase', arrival - 7 * DAY, id, `${session}-pre`, { value: 20 + rng.int(40) });
    let t = arrival;
    event(EXPOSURE_EVENT, t, id, session, { experiment_id: o.experiment, variant_id: arm.variant, ...(list ? { item_list_id: list } : {}) });
    const tiles = 4;
    event('view_item_list', (t += 1000), id, session, { item_list_id: list ?? 'home', items: Array.from({ length: tiles }, (_, k) => ({ item_id: `item-${k}` })) });
    for (let k = 0; k < tiles; k++) if (rng.next() < (arm.clickRate ?? 0.1)) event('select_item', (t += 1000), id, session, { item_id: `item-${k}`, item_list_id: list ?? 'home' });
    const buys = rng.next() < Math.min(1, arm.conversion * propensity);
    if (buys || rng.next() < 0.1) event('add_to_cart', (t += 1000), id, session, { item_id: 'item-0' });
    if (buys) event('purchase', t + 3_600_000, id, session, { value: 30 + rng.int(50) });
  }
  events.sort((a, b) => a.ts - b.ts);
  return { events, arms };
}
