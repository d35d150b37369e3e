/**
 * CUPED (Deng, Xu, Kohavi & Walker, WSDM 2013): subtract from each shopper's metric the part
 * a pre-exposure covariate X predicts, Y - θ(X - X̄), with θ = cov(Y, X) / var(X). X was fixed
 * before assignment, so the adjusted means keep their expectation while their variance
 * shrinks by the factor 1 - ρ², ρ the correlation of Y and X: intervals narrow by
 * sqrt(1 - ρ²). θ and ρ are pooled within arms (each arm centred on its own means), so a
 * treatment effect does not leak into them; X̄ is the mean over all arms.
 */
import type { Estimate } from './estimate.js';
import { covarianceXY, meanX, meanY, varianceX, varianceY, type Moments } from './moments.js';

export interface CupedResult {
  theta: number;
  /** Pooled within-arm correlation of Y and X. */
  correlation: number;
  /** Each arm's adjusted mean Ȳ_a - θ(X̄_a - X̄), with its standard error. */
  arms: Estimate[];
  /** 1 - (sum of the arms' adjusted variances of the mean) / (the same unadjusted): for two arms, of the difference. */
  varianceReduction: number;
}

export function cuped(arms: readonly Moments[]): CupedResult {
  let sxx = 0, sxy = 0, syy = 0, sumX = 0, n = 0;
  for (const m of arms) {
    sxx += (m.n - 1) * varianceX(m);
    sxy += (m.n - 1) * covarianceXY(m);
    syy += (m.n - 1) * varianceY(m);
    sumX += m.sumX;
    n += m.n;
  }
  if (!(sxx > 0)) throw new Error('CUPED needs a covariate that varies');
  const theta = sxy / sxx;
  const xBar = sumX / n;
  let before = 0, after = 0;
  const adjusted = arms.map((m) => {
    const variance = varianceY(m) - 2 * theta * covarianceXY(m) + theta * theta * varianceX(m);
    before += varianceY(m) / m.n;
    after += variance / m.n;
    return { value: meanY(m) - theta * (meanX(m) - xBar), se: Math.sqrt(Math.max(0, variance) / m.n) };
  });
  return { theta, correlation: sxy / Math.sqrt(sxx * syy), arms: adjusted, varianceReduction: 1 - after / before };
}
