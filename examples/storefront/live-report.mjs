// The demo's live experiment report: `hunch report` over the collector's database, made anew on
// every visit of /report. Until the data can answer (nothing exposed yet, one arm so far) the
// page says why in one line, as the command line does.
import { experimentReport, reportHtml, ReportError } from '../../packages/trainer/dist/index.js';

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page for what the report cannot show yet. */
const waiting = (message) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hunch experiment report</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>Hunch experiment report</h1>
<p id="report-status">${escapeHtml(message)}</p>
<p>Shop in the demo (its pages upload to the collector), then reload this page.</p>
</body></html>`;

/**
 * @param {import('../../packages/collector/dist/index.js').EventStore} store the collector's store
 * @param {{ holdout?: number }} options the shop's holdout share, for the sample-ratio check
 * @returns {() => Promise<string>} the page's HTML, now
 */
export function liveReport(store, { holdout } = {}) {
  return async () => {
    try {
      return reportHtml(await experimentReport(store.read(), holdout ? { holdout } : {}));
    } catch (error) {
      if (error instanceof ReportError) return waiting(error.message);
      throw error;
    }
  };
}
