// The part of jstat (https://github.com/jstat/jstat, MIT; it ships no types) that the
// experiment statistics use.
declare module 'jstat' {
  interface JStat {
    normal: {
      cdf(x: number, mean: number, sd: number): number;
      inv(p: number, mean: number, sd: number): number;
    };
    chisquare: {
      cdf(x: number, dof: number): number;
      inv(p: number, dof: number): number;
    };
  }
  const jStat: JStat;
  export default jStat;
}
