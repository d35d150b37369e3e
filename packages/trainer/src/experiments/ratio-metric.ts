/**
 * A ratio metric whose unit differs from the randomisation unit, e.g. click-through =
 * Σ clicks / Σ impressions with shoppers randomised: a shopper's impressions are not
 * independent, so the binomial variance of clicks/impressions would be too small. The delta
 * method on the ratio of per-shopper means (Deng, Knoblich & Lu, KDD 2018) gives
 *   Var(R) ≈ (s²_Y - 2R·s_XY + R²·s²_X) / (n · X̄²),  R = Ȳ / X̄,
 * with Y the numerator and X the denominator of each shopper.
 */
import type { Estimate } from './estimate.js';
import { covarianceXY, meanX, meanY, varianceX, varianceY, type Moments } from './moments.js';

export function ratioEstimate(m: Moments): Estimate {
  const xBar = meanX(m);
  const r = meanY(m) / xBar;
  const variance = (varianceY(m) - 2 * r * covarianceXY(m) + r * r * varianceX(m)) / (m.n * xBar * xBar);
  return { value: r, se: Math.sqrt(Math.max(0, variance)) };
}
