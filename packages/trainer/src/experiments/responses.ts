/**
 * Response models: what a shopper does in the experiment window given what they were shown.
 * A model reads only the population's traits and stored uniforms, so calling it for two arms
 * replays the same shoppers with the same luck: the difference is exactly the arm's effect.
 * It is a function of "what was shown" (`Shown`) so that a later model can take the SDK's
 * real ranking (the items a shopper saw) and decide clicks and purchases from it.
 */
import { binomialInv } from './inverse-cdf.js';
import { sigmoid, type ShopperPopulation } from './simulate-shoppers.js';

/** Per-shopper outcomes in the window, one entry per shopper. */
export interface ShopperOutcomes {
  /** 1 if the shopper bought at least once, else 0. */
  purchased: Float64Array;
  purchases: Float64Array;
  revenue: Float64Array;
  /** 1 if the shopper added anything to the cart, else 0. */
  addedToCart: Float64Array;
  /** Recommendation tiles seen, and clicked. */
  impressions: Float64Array;
  clicks: Float64Array;
}

export const emptyOutcomes = (n: number): ShopperOutcomes => ({
  purchased: new Float64Array(n),
  purchases: new Float64Array(n),
  revenue: new Float64Array(n),
  addedToCart: new Float64Array(n),
  impressions: new Float64Array(n),
  clicks: new Float64Array(n),
});

/**
 * Writes every shopper's outcomes, had they been shown `shown`, into `out`. `Population` is
 * simulate-shoppers.ts's by default; the closed loop (closed-loop.ts) has its own.
 */
export type ResponseModel<Shown, Population = ShopperPopulation> = (population: Population, shown: Shown, out: ShopperOutcomes) => void;

/**
 * Relative effects of an arm on the default shopper: per-visit purchase (and add-to-cart)
 * probability, order value, and click-through; all 0 is the control experience.
 */
export interface Effect {
  purchase: number;
  orderValue: number;
  click: number;
}

export const NO_EFFECT: Effect = { purchase: 0, orderValue: 0, click: 0 };

/** The default response: each effect multiplies the matching probability or amount (capped at 1). */
export const liftResponse: ResponseModel<Effect> = (pop, effect, out) => {
  const { cartRatio, tilesPerVisit } = pop.model;
  for (let i = 0; i < pop.size; i++) {
    const visits = pop.visits[i]!;
    const p = Math.min(1, sigmoid(pop.purchaseLogit[i]!) * (1 + effect.purchase));
    const u = pop.uPurchase[i]!;
    // One uniform for both: a shopper who buys has added to cart (cart probability >= purchase probability).
    const purchases = binomialInv(u, visits, p);
    const carts = binomialInv(u, visits, Math.min(1, cartRatio * p));
    out.purchases[i] = purchases;
    out.purchased[i] = purchases > 0 ? 1 : 0;
    out.addedToCart[i] = carts > 0 ? 1 : 0;
    out.revenue[i] = purchases * pop.orderValue[i]! * (1 + effect.orderValue);
    const impressions = visits * tilesPerVisit;
    out.impressions[i] = impressions;
    out.clicks[i] = binomialInv(pop.uClick[i]!, impressions, Math.min(1, pop.clickRate[i]! * (1 + effect.click)));
  }
};
