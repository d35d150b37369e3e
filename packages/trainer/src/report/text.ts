/** The report as a plain-text table (what `hunch report` prints by default). */
import { int, pValue, range, signed, significant, withInterval } from './format.js';
import { METRICS, type ExperimentReport, type ExperimentsReport, type MetricName } from './types.js';

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

function experimentText(e: ExperimentReport, alpha: number): string[] {
  const level = `${Math.round(100 * (1 - alpha))}%`;
  const lines: string[] = [];
  lines.push(`experiment ${e.key}: control ${e.control} (${e.controlReason}); ${int(e.exposures)} exposures, ${e.firstExposure.slice(0, 10)} to ${e.lastExposure.slice(0, 10)}${e.lists.length ? `; lists ${e.lists.join(', ')}` : ''}`);
  if (e.srm.mismatch) lines.push(`  !!! ${e.srm.message} !!!`);
  const armWidth = Math.max(6, ...e.arms.map((a) => a.variant.length)) + 2;
  lines.push(
    `  ${pad('arm', armWidth)}${lpad('shoppers', 9)}  ${pad('share (expected)', 18)}${pad(`conversion [${level}]`, 26)}${pad('revenue/shopper', 24)}${pad('add-to-cart', 24)}rec CTR`,
  );
  for (const a of e.arms) {
    const share = `${a.observedShare === null ? '–' : `${(100 * a.observedShare).toFixed(1)}%`} (${(100 * a.expectedShare).toFixed(1)}%)`;
    lines.push(
      `  ${pad(a.variant, armWidth)}${lpad(int(a.shoppers), 9)}  ${pad(share, 18)}${pad(withInterval(a.metrics.conversion, 'share'), 26)}${pad(withInterval(a.metrics.revenuePerShopper, 'money'), 24)}` +
        `${pad(withInterval(a.metrics.addToCart, 'share'), 24)}${withInterval(a.metrics.ctr, 'share')}`,
    );
  }
  for (const c of e.comparisons) {
    lines.push(`  ${c.treatment} vs ${c.control}:`);
    for (const metric of Object.keys(METRICS) as MetricName[]) {
      const lift = c.metrics[metric];
      const { label, unit } = METRICS[metric];
      if (!lift) {
        lines.push(`    ${pad(label, 24)}–`);
        continue;
      }
      const mark = significant(lift.absolute) ? ' *' : '';
      const cuped = lift.cuped ? `; CUPED ${signed(lift.cuped.relative.value, 'relative')} ${range(lift.cuped.relative, 'relative')}` : '';
      lines.push(
        `    ${pad(label, 24)}${signed(lift.absolute.value, unit)} ${range(lift.absolute, unit)}, relative ${signed(lift.relative.value, 'relative')} ${range(lift.relative, 'relative')}` +
          ` (p ${pValue(lift.absolute.pValue)})${mark}; always-valid ${range(lift.alwaysValid.relative, 'relative')}${cuped}`,
      );
    }
  }
  lines.push(`  funnel (shoppers after exposure): ${e.arms.map((a) => `${a.variant} ${int(a.funnel.exposed)} exposed → ${int(a.funnel.clicked)} clicked a rec → ${int(a.funnel.addedToCart)} added to cart → ${int(a.funnel.purchased)} purchased`).join('; ')}`);
  lines.push(`  SRM: ${e.srm.message}`);
  lines.push(
    `  left out: ${int(e.crossovers.shoppers)} crossover shoppers, ${int(e.unattributable)} exposures without shopperId, ${int(e.blankVariant)} with a blank variant, ` +
      `${e.unknownVariants.length === 0 ? 'no unknown variants' : `unknown variants ${e.unknownVariants.map((v) => `${v.variant} (${int(v.exposures)} exposures)`).join(', ')}`}`,
  );
  for (const w of e.warnings) if (!w.startsWith('SAMPLE RATIO')) lines.push(`  warning: ${w}`);
  return lines;
}

export function reportText(report: ExperimentsReport): string {
  const lines = [
    `experiment report${report.source ? ` of ${report.source}` : ''}: ${int(report.events)} events, ${int(report.exposureEvents)} exposures, ${report.experiments.length} experiment${report.experiments.length === 1 ? '' : 's'}`,
  ];
  if (report.invalid && report.invalid.count > 0) lines.push(`skipped ${int(report.invalid.count)} invalid events`);
  for (const e of report.experiments) lines.push('', ...experimentText(e, report.alpha));
  if (report.skipped.length > 0) {
    lines.push('', 'not reported:');
    for (const s of report.skipped) lines.push(`  ${s.key}: ${s.reason} (${int(s.exposures)} exposures; ${s.variants.map((v) => `${v.variant} ${int(v.exposures)}`).join(', ') || 'no named variant'})`);
  }
  lines.push('', '* the interval excludes 0.', ...report.notes);
  return `${lines.join('\n')}\n`;
}
