/**
 * Counts drawn by inverting their CDF at one uniform u. For a fixed u the draw only grows with
 * the rate or the probability, so replaying a shopper with the same u under a better arm can
 * only add purchases: the simulator's arms differ by exactly their effect, not by noise.
 */

/** The smallest k with P(Poisson(lambda) <= k) >= u. */
export function poissonInv(u: number, lambda: number): number {
  let k = 0;
  let pmf = Math.exp(-lambda);
  let cdf = pmf;
  while (u > cdf && k < 1000) {
    k++;
    pmf *= lambda / k;
    cdf += pmf;
  }
  return k;
}

/** The smallest k with P(Binomial(n, p) <= k) >= u. */
export function binomialInv(u: number, n: number, p: number): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  const odds = p / (1 - p);
  let k = 0;
  let pmf = (1 - p) ** n;
  let cdf = pmf;
  while (u > cdf && k < n) {
    pmf *= ((n - k) / (k + 1)) * odds;
    k++;
    cdf += pmf;
  }
  return k;
}
