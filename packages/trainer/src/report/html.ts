/**
 * The report as one self-contained HTML page: no network request (Chart.js's UMD build is read
 * from node_modules when the page is made and inlined, the report's data is inlined as JSON),
 * so it works from file:// and offline. Every string from the data goes into the page either
 * HTML-escaped (`escapeHtml`) or inside the JSON block with `<`, `>` and `&` written as \u
 * escapes, and the charts draw text on a canvas: nothing from the data is ever parsed as HTML.
 *
 * Charts (Chart.js, no plugin): conversion and revenue per shopper by arm as bars with their
 * interval drawn over them as a thin floating bar; the cumulative relative lift in conversion per
 * day with its always-valid band (fill between two lines); the funnel by arm (share of exposed
 * shoppers at each step). Tables beside them carry the same numbers, and remain when script is off.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { int, pValue, range, signed, significant, withInterval } from './format.js';
import { METRICS, type ExperimentReport, type ExperimentsReport, type MetricName } from './types.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element: no `<`, `>` or `&` can end it or open a tag. */
const scriptJson = (data: unknown): string =>
  JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

let chartSource: string | null | undefined;
/** Chart.js's UMD build from node_modules (null when it cannot be found: the page keeps its tables). */
function chartJs(): string | null {
  if (chartSource === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const dist = dirname(require.resolve('chart.js'));
      chartSource = readFileSync(join(dist, 'chart.umd.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
    } catch {
      chartSource = null;
    }
  }
  return chartSource;
}

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:0 0 8px}h3{font-size:15px;margin:18px 0 6px;color:#3b4456}
.meta{color:#5b6475;font-size:13px}
section.experiment{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:20px;margin:20px 0}
.banner{border-radius:8px;padding:12px 14px;margin:10px 0;font-weight:600}
.banner.srm{background:#b00020;color:#fff;font-size:16px}
.banner.ok{background:#e8f5ec;color:#1c6b34;font-weight:400}
.warn{background:#fff6e0;border:1px solid #f0d48a;border-radius:8px;padding:8px 12px;margin:8px 0;font-size:13px}
.chips{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.chip{background:#eef1f6;border-radius:999px;padding:3px 10px;font-size:13px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(400px,1fr));gap:16px}
.chart{position:relative;height:260px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.sig{font-weight:700;color:#1c6b34}.neg{font-weight:700;color:#b00020}
.nochart{color:#5b6475;font-size:13px}
`;

function armsTable(e: ExperimentReport): string {
  const rows = e.arms
    .map(
      (a) => `<tr><td>${escapeHtml(a.variant)}${a.control ? ' (control)' : ''}</td><td class="num">${int(a.shoppers)}</td>` +
        `<td class="num">${a.observedShare === null ? '–' : `${(100 * a.observedShare).toFixed(1)}%`} (${(100 * a.expectedShare).toFixed(1)}%)</td>` +
        `<td class="num">${withInterval(a.metrics.conversion, 'share')}</td><td class="num">${withInterval(a.metrics.revenuePerShopper, 'money')}</td>` +
        `<td class="num">${withInterval(a.metrics.addToCart, 'share')}</td><td class="num">${withInterval(a.metrics.ctr, 'share')}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>Arm</th><th class="num">Shoppers</th><th class="num">Share (expected)</th><th class="num">Conversion</th><th class="num">Revenue / shopper</th><th class="num">Add-to-cart</th><th class="num">Rec CTR</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function liftTable(e: ExperimentReport): string {
  const rows: string[] = [];
  for (const c of e.comparisons) {
    for (const metric of Object.keys(METRICS) as MetricName[]) {
      const lift = c.metrics[metric];
      const { label, unit } = METRICS[metric];
      if (!lift) {
        rows.push(`<tr><td>${escapeHtml(c.treatment)}</td><td>${label}</td><td colspan="5">–</td></tr>`);
        continue;
      }
      const cls = significant(lift.absolute) ? (lift.absolute.value! > 0 ? ' class="num sig"' : ' class="num neg"') : ' class="num"';
      rows.push(
        `<tr><td>${escapeHtml(c.treatment)}</td><td>${label}</td><td${cls}>${signed(lift.absolute.value, unit)} ${range(lift.absolute, unit)}</td>` +
          `<td${cls}>${signed(lift.relative.value, 'relative')} ${range(lift.relative, 'relative')}</td><td class="num">${pValue(lift.absolute.pValue)}</td>` +
          `<td class="num">${lift.cuped ? `${signed(lift.cuped.relative.value, 'relative')} ${range(lift.cuped.relative, 'relative')}` : '–'}</td>` +
          `<td class="num">${range(lift.alwaysValid.relative, 'relative') || '–'}</td></tr>`,
      );
    }
  }
  return `<table><thead><tr><th>Arm</th><th>Metric</th><th class="num">Lift vs ${escapeHtml(e.control)}</th><th class="num">Relative</th><th class="num">p</th><th class="num">CUPED relative</th><th class="num">Always-valid relative</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function funnelTable(e: ExperimentReport): string {
  const rows = e.arms
    .map((a) => `<tr><td>${escapeHtml(a.variant)}</td><td class="num">${int(a.funnel.exposed)}</td><td class="num">${int(a.funnel.clicked)}</td><td class="num">${int(a.funnel.addedToCart)}</td><td class="num">${int(a.funnel.purchased)}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>Arm</th><th class="num">Exposed</th><th class="num">Clicked a rec</th><th class="num">Added to cart</th><th class="num">Purchased</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function experimentSection(e: ExperimentReport, index: number, charts: boolean): string {
  const banner = e.srm.mismatch
    ? `<div class="banner srm" role="alert">⚠ ${escapeHtml(e.srm.message)}</div>`
    : `<div class="banner ok">${escapeHtml(e.srm.message)}</div>`;
  const chips = [
    `${int(e.exposures)} exposures`,
    `${int(e.crossovers.shoppers)} crossover shoppers (left out)`,
    `${int(e.unattributable)} unattributable exposures (no shopperId)`,
    `${int(e.blankVariant)} blank variants`,
    e.unknownVariants.length === 0 ? 'no unknown variants' : `unknown variants: ${e.unknownVariants.map((v) => `${v.variant} (${int(v.exposures)})`).join(', ')}`,
  ];
  const warnings = e.warnings.filter((w) => !w.startsWith('SAMPLE RATIO')).map((w) => `<div class="warn">${escapeHtml(w)}</div>`).join('');
  const canvas = (name: string, label: string) =>
    charts ? `<div class="chart"><canvas id="chart-${index}-${name}" data-chart="${name}" role="img" aria-label="${escapeHtml(label)}"></canvas></div>` : `<p class="nochart">(chart unavailable: Chart.js was not found when the page was made)</p>`;
  return `<section class="experiment" id="experiment-${index}">
<h2>${escapeHtml(e.key)}</h2>
<div class="meta">Control: <b>${escapeHtml(e.control)}</b> (${escapeHtml(e.controlReason)}) · ${escapeHtml(e.firstExposure.slice(0, 10))} to ${escapeHtml(e.lastExposure.slice(0, 10))}${e.lists.length ? ` · lists ${e.lists.map(escapeHtml).join(', ')}` : ''}</div>
${banner}
<div class="chips">${chips.map((c) => `<span class="chip">${escapeHtml(c)}</span>`).join('')}</div>
${warnings}
<div class="charts">
<div><h3>Conversion by arm (95% interval)</h3>${canvas('conversion', `Conversion by arm of ${e.key}`)}</div>
<div><h3>Revenue per shopper by arm (95% interval)</h3>${canvas('revenue', `Revenue per shopper by arm of ${e.key}`)}</div>
<div><h3>Cumulative lift in conversion (always-valid band)</h3>${canvas('lift', `Cumulative relative lift in conversion of ${e.key}`)}</div>
<div><h3>Funnel by arm (share of exposed shoppers)</h3>${canvas('funnel', `Funnel by arm of ${e.key}`)}</div>
</div>
<h3>Arms</h3>${armsTable(e)}
<h3>Lift</h3>${liftTable(e)}
<h3>Funnel</h3>${funnelTable(e)}
</section>`;
}

/** Runs in the page: draws every experiment's charts from the inlined JSON. */
const CHART_SCRIPT = `(function(){
var report=JSON.parse(document.getElementById('hunch-report-data').textContent);
if(typeof Chart==='undefined')return;
var palette=['#6b7280','#2563eb','#16a34a','#d97706','#9333ea','#0891b2','#dc2626'];
var alpha=function(hex,a){var n=parseInt(hex.slice(1),16);return 'rgba('+(n>>16)+','+((n>>8)&255)+','+(n&255)+','+a+')';};
var pct=function(x){return x===null?null:100*x;};
var base={animation:false,responsive:true,maintainAspectRatio:false};
report.experiments.forEach(function(e,i){
  var el=function(name){return document.getElementById('chart-'+i+'-'+name);};
  var labels=e.arms.map(function(a){return a.variant+(a.control?' (control)':'');});
  var colors=e.arms.map(function(_,k){return palette[k%palette.length];});
  var byArm=function(metric,scale,title){
    new Chart(el(metric==='conversion'?'conversion':'revenue'),{type:'bar',data:{labels:labels,datasets:[
      {label:title,data:e.arms.map(function(a){var v=a.metrics[metric].value;return v===null?null:scale(v);}),backgroundColor:colors.map(function(c){return alpha(c,0.45);}),order:2},
      {label:'95% interval',data:e.arms.map(function(a){var m=a.metrics[metric];return m.low===null?null:[scale(m.low),scale(m.high)];}),backgroundColor:'#111827',maxBarThickness:4,order:1}
    ]},options:Object.assign({},base,{datasets:{bar:{grouped:false}},plugins:{legend:{display:false}},scales:{y:{beginAtZero:true,title:{display:true,text:title}}}})});
  };
  byArm('conversion',pct,'Conversion (%)');
  byArm('revenuePerShopper',function(x){return x;},'Revenue per shopper');
  var dates=e.daily.map(function(d){return d.date;});
  var sets=[];
  e.arms.forEach(function(a,k){
    if(a.control)return;
    var c=colors[k];
    var get=function(f){return e.daily.map(function(d){var l=d.lift[a.variant];return l&&l[f]!==null?pct(l[f]):null;});};
    sets.push({label:a.variant+' always-valid low',data:get('alwaysLow'),borderColor:alpha(c,0.3),backgroundColor:alpha(c,0.15),pointRadius:0,fill:false,borderWidth:1});
    sets.push({label:a.variant+' always-valid band',data:get('alwaysHigh'),borderColor:alpha(c,0.3),backgroundColor:alpha(c,0.15),pointRadius:0,fill:'-1',borderWidth:1});
    sets.push({label:a.variant+' vs '+e.control,data:get('value'),borderColor:c,backgroundColor:c,pointRadius:2,fill:false,borderWidth:2});
  });
  sets.push({label:'no lift',data:dates.map(function(){return 0;}),borderColor:'#111827',borderDash:[4,4],pointRadius:0,borderWidth:1,fill:false});
  // The first days' bands are huge: the axis spans twice the latest band, and earlier days are clipped to it.
  var last=e.daily.length?e.daily[e.daily.length-1].lift:{},bound=10;
  Object.keys(last).forEach(function(k){var l=last[k];[l.alwaysLow,l.alwaysHigh,l.value].forEach(function(x){if(x!==null)bound=Math.max(bound,2*Math.abs(100*x));});});
  var step=Math.pow(10,Math.floor(Math.log10(bound)));bound=[1,2,5,10].map(function(m){return m*step;}).filter(function(b){return b>=bound;})[0];
  new Chart(el('lift'),{type:'line',data:{labels:dates,datasets:sets},options:Object.assign({},base,{spanGaps:true,plugins:{legend:{labels:{filter:function(item){return !/always-valid low$/.test(item.text);}}}},scales:{y:{min:-bound,max:bound,title:{display:true,text:'Relative lift in conversion (%)'}}}})});
  var steps=['Exposed','Clicked a rec','Added to cart','Purchased'];
  new Chart(el('funnel'),{type:'bar',data:{labels:steps,datasets:e.arms.map(function(a,k){var f=a.funnel,n=f.exposed||1;return {label:a.variant,backgroundColor:colors[k],data:[f.exposed,f.clicked,f.addedToCart,f.purchased].map(function(x){return 100*x/n;})};})},
    options:Object.assign({},base,{scales:{y:{beginAtZero:true,max:100,title:{display:true,text:'% of exposed shoppers'}}}})});
});
})();`;

export function reportHtml(report: ExperimentsReport): string {
  const chart = chartJs();
  const sections = report.experiments.map((e, i) => experimentSection(e, i, chart !== null)).join('\n');
  const skipped =
    report.skipped.length === 0
      ? ''
      : `<section class="experiment"><h2>Not reported</h2><table><thead><tr><th>Experiment</th><th>Why</th><th class="num">Exposures</th><th>Variants (exposures)</th></tr></thead><tbody>${report.skipped
          .map((s) => `<tr><td>${escapeHtml(s.key)}</td><td>${escapeHtml(s.reason)}</td><td class="num">${int(s.exposures)}</td><td>${escapeHtml(s.variants.map((v) => `${v.variant} (${int(v.exposures)})`).join(', '))}</td></tr>`)
          .join('')}</tbody></table></section>`;
  const invalid = report.invalid && report.invalid.count > 0 ? `<div class="warn">${int(report.invalid.count)} invalid events were skipped.</div>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hunch experiment report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Experiment report</h1>
<div class="meta">${report.source ? `${escapeHtml(report.source)} · ` : ''}${int(report.events)} events, ${int(report.exposureEvents)} exposures · generated ${escapeHtml(report.generatedAt)}</div>
${invalid}
${sections}
${skipped}
<section class="experiment"><h2>How to read it</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>
</main>
<script type="application/json" id="hunch-report-data">${scriptJson(report)}</script>
${chart === null ? '' : `<script>${chart}</script>\n<script>${CHART_SCRIPT}</script>`}
</body>
</html>
`;
}
