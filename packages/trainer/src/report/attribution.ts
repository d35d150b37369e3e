/**
 * Who saw what, and what they did after: events → per experiment, each exposed shopper's arm and
 * outcomes. The shopper (`shopperId`, the unit of randomisation) is the unit throughout:
 * - a shopper's arm is the variant of their first exposure (`experience_impression`) to the
 *   experiment; a shopper exposed to two variants of one experiment is a crossover: counted,
 *   listed and left out (their outcome belongs to neither arm);
 * - exposures without a shopperId (no consent to upload it) cannot be tied to outcomes: counted
 *   as unattributable; exposures with a blank variant are counted too; neither is dropped silently;
 * - outcomes come from the shopper's behaviour events at or after their first exposure; the same
 *   metrics before it are the pre-period covariate CUPED uses. Recommendation clicks and tiles
 *   count on the experiment's lists (the `item_list_id`s its exposures name) or, for an
 *   experiment whose exposures name none, on any list.
 * Events may come in any order: everything is kept per shopper (a few numbers per behaviour
 * event) and attributed at the end.
 */
import { EXPOSURE_EVENT, type HunchEvent } from '@hunch/core';

/** A shopper's metrics over a period. */
export interface Outcome {
  /** 1 when they bought at least once. */
  purchased: number;
  /** Sum of purchase.value. */
  revenue: number;
  /** 1 when they added anything to the cart. */
  added: number;
  /** Recommendation clicks (select_item) on the experiment's lists. */
  clicks: number;
  /** Recommendation tiles seen (view_item_list items) on the experiment's lists. */
  tiles: number;
}

export const emptyOutcome = (): Outcome => ({ purchased: 0, revenue: 0, added: 0, clicks: 0, tiles: 0 });

export interface AttributedShopper {
  arm: string;
  firstExposure: number;
  /** At or after the first exposure. */
  post: Outcome;
  /** Before it (CUPED's covariate). */
  pre: Outcome;
  /** Post-exposure purchases as [ts, value], for the daily series. */
  purchases: Array<[number, number]>;
}

export interface VariantCount {
  variant: string;
  /** Exposure events naming it (with or without a shopperId). */
  exposures: number;
  /** Distinct shoppers whose first exposure was to it (crossovers included). */
  shoppers: number;
}

export interface ExperimentAttribution {
  key: string;
  /** All its exposure events. */
  exposures: number;
  /** Exposure events without a shopperId. */
  unattributable: number;
  /** Exposure events whose variant is blank. */
  blankVariant: number;
  variants: VariantCount[];
  /** The item_list_ids its exposures name (empty: any list counts). */
  lists: string[];
  /** Shoppers exposed to more than one variant, left out of `shoppers`. */
  crossovers: { shoppers: number; variants: Record<string, number> };
  /** Every attributable, non-crossover shopper. */
  shoppers: AttributedShopper[];
  /** Time of the first and last exposure. */
  firstExposure: number;
  lastExposure: number;
}

export interface Attribution {
  /** Events read. */
  events: number;
  /** Exposure events read. */
  exposures: number;
  /** Latest event time (the end of the daily series). */
  lastEvent: number;
  experiments: ExperimentAttribution[];
}

const PURCHASE = 0, CART = 1, CLICK = 2, TILES = 3;
type Kind = typeof PURCHASE | typeof CART | typeof CLICK | typeof TILES;
interface Behaviour {
  ts: number;
  kind: Kind;
  /** purchase: value; view_item_list: tiles. */
  amount: number;
  list: string | undefined;
}

interface Exposed {
  first: number;
  variant: string;
  variants: Set<string>;
}

interface ExperimentTally {
  exposures: number;
  unattributable: number;
  blankVariant: number;
  variantExposures: Map<string, number>;
  lists: Set<string>;
  byShopper: Map<string, Exposed>;
  firstExposure: number;
  lastExposure: number;
}

/** Collects events one at a time; `finish()` attributes them. */
export class Attributor {
  private events = 0;
  private exposureCount = 0;
  private lastEvent = -Infinity;
  private readonly experiments = new Map<string, ExperimentTally>();
  private readonly behaviour = new Map<string, Behaviour[]>();

  add(event: HunchEvent): void {
    this.events++;
    if (event.ts > this.lastEvent) this.lastEvent = event.ts;
    const p = event.params;
    if (event.name === EXPOSURE_EVENT) {
      this.exposureCount++;
      const key = p.experiment_id ?? '';
      let tally = this.experiments.get(key);
      if (!tally) {
        tally = { exposures: 0, unattributable: 0, blankVariant: 0, variantExposures: new Map(), lists: new Set(), byShopper: new Map(), firstExposure: Infinity, lastExposure: -Infinity };
        this.experiments.set(key, tally);
      }
      tally.exposures++;
      tally.firstExposure = Math.min(tally.firstExposure, event.ts);
      tally.lastExposure = Math.max(tally.lastExposure, event.ts);
      if (p.item_list_id) tally.lists.add(p.item_list_id);
      const variant = (p.variant_id ?? '').trim();
      if (variant === '') {
        tally.blankVariant++;
        return;
      }
      tally.variantExposures.set(variant, (tally.variantExposures.get(variant) ?? 0) + 1);
      if (!event.shopperId) {
        tally.unattributable++;
        return;
      }
      const seen = tally.byShopper.get(event.shopperId);
      if (!seen) tally.byShopper.set(event.shopperId, { first: event.ts, variant, variants: new Set([variant]) });
      else {
        seen.variants.add(variant);
        if (event.ts < seen.first) {
          seen.first = event.ts;
          seen.variant = variant;
        }
      }
      return;
    }
    if (!event.shopperId) return;
    let kind: Kind;
    let amount = 0;
    if (event.name === 'purchase') {
      kind = PURCHASE;
      amount = p.value ?? 0;
    } else if (event.name === 'add_to_cart') kind = CART;
    else if (event.name === 'select_item' && p.item_list_id) kind = CLICK;
    else if (event.name === 'view_item_list' && p.item_list_id) {
      kind = TILES;
      amount = p.items?.length ?? 0;
    } else return;
    let list = this.behaviour.get(event.shopperId);
    if (!list) this.behaviour.set(event.shopperId, (list = []));
    list.push({ ts: event.ts, kind, amount, list: p.item_list_id });
  }

  finish(): Attribution {
    const experiments: ExperimentAttribution[] = [];
    for (const [key, tally] of [...this.experiments].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const shopperCounts = new Map<string, number>();
      const crossovers = { shoppers: 0, variants: {} as Record<string, number> };
      const shoppers: AttributedShopper[] = [];
      const anyList = tally.lists.size === 0;
      for (const [id, exposed] of tally.byShopper) {
        shopperCounts.set(exposed.variant, (shopperCounts.get(exposed.variant) ?? 0) + 1);
        if (exposed.variants.size > 1) {
          crossovers.shoppers++;
          for (const v of exposed.variants) crossovers.variants[v] = (crossovers.variants[v] ?? 0) + 1;
          continue;
        }
        const post = emptyOutcome(), pre = emptyOutcome();
        const purchases: Array<[number, number]> = [];
        for (const b of this.behaviour.get(id) ?? []) {
          const after = b.ts >= exposed.first;
          const o = after ? post : pre;
          if (b.kind === PURCHASE) {
            o.purchased = 1;
            o.revenue += b.amount;
            if (after) purchases.push([b.ts, b.amount]);
          } else if (b.kind === CART) o.added = 1;
          else if (anyList || tally.lists.has(b.list!)) {
            if (b.kind === CLICK) o.clicks++;
            else o.tiles += b.amount;
          }
        }
        shoppers.push({ arm: exposed.variant, firstExposure: exposed.first, post, pre, purchases });
      }
      const variants = [...tally.variantExposures].map(([variant, exposures]) => ({ variant, exposures, shoppers: shopperCounts.get(variant) ?? 0 }));
      variants.sort((a, b) => (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0));
      experiments.push({
        key,
        exposures: tally.exposures,
        unattributable: tally.unattributable,
        blankVariant: tally.blankVariant,
        variants,
        lists: [...tally.lists].sort(),
        crossovers,
        shoppers,
        firstExposure: tally.firstExposure,
        lastExposure: tally.lastExposure,
      });
    }
    return { events: this.events, exposures: this.exposureCount, lastEvent: this.lastEvent, experiments };
  }
}
