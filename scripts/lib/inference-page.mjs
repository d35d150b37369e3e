// What scripts/bench-inference.mjs runs inside Chromium's page: the page itself (cross-origin
// isolated, with long-task and long-animation-frame observers installed before anything else)
// and the functions handed to page.evaluate(). Each function is self-contained (Playwright sends
// its source), uses only the SDK's public API from the built hunch.esm.js, and reads the worker's
// own figures defensively: `status().lastInference` and `intent()` are null / skipped when the
// SDK in dist/ does not have them yet.

/** The benchmark page: empty body, observers first, so every long task of the SDK is seen. */
export const BENCH_PAGE = `<!doctype html><meta charset="utf-8"><title>inference bench</title><link rel="icon" href="data:,">
<script>
window.__long = { tasks: [], frames: [], supported: PerformanceObserver.supportedEntryTypes };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.tasks.push({ start: e.startTime, duration: e.duration, name: e.name });
  }).observe({ type: 'longtask', buffered: true });
} catch {}
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__long.frames.push({
        start: e.startTime,
        duration: e.duration,
        blocking: e.blockingDuration,
        scripts: e.scripts.map((s) => ({ url: s.sourceURL, fn: s.sourceFunctionName, invoker: s.invoker, type: s.invokerType, duration: s.duration })),
      });
    }
  }).observe({ type: 'long-animation-frame', buffered: true });
} catch {}
</script>
<body></body>`;

/**
 * A shopper's session on a page: the SDK loads, a <hunch-recommendations> element renders,
 * `items.length` view_item events are tracked (each in its own task) with recommend() every
 * `every` events; then waits for the element to show the model's picks and for the observers.
 * Phase marks (performance.now()) let each long task be put in its phase.
 */
export async function scriptedSession({ model, backend, dtype, items, every }) {
  const now = () => performance.now();
  const marks = { start: now() };
  const sdk = await import('/hunch/hunch.esm.js');
  marks.imported = now();
  const hunch = sdk.createHunch({ model, backend, dtype });
  sdk.defineRecommendationsElement(hunch);
  const element = document.createElement('hunch-recommendations');
  element.setAttribute('placement', 'home');
  element.setAttribute('limit', '6');
  document.body.append(element);
  const status = await hunch.status();
  marks.status = now();
  let recommended = 0;
  for (let i = 0; i < items.length; i++) {
    hunch.track('view_item', { item_id: items[i] });
    if (i % every === every - 1) {
      const recs = await hunch.recommend({ k: 20 });
      if (recs.length > 0 && recs.every((r) => r.source === 'model')) recommended++;
      marks.firstRecommendation ??= now();
    } else {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  marks.tracked = now();
  const modelCards = () => element.shadowRoot?.querySelectorAll('[data-source="model"]').length ?? 0;
  const deadline = now() + 30_000;
  while (modelCards() === 0 && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  marks.rendered = now();
  await hunch.flush();
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the observers report the last tasks
  marks.end = now();
  return { marks, status, recommended, recommendCalls: Math.floor(items.length / every), modelCards: modelCards(), long: window.__long };
}

/**
 * Steady state on one page: a fresh history of `history` view_item events, then `warmup`
 * unmeasured recommend({ k: 20 }), `iterations` timed warm ones (same history: the same question,
 * which the worker may answer from the answer it drew before), `iterations` timed warm ones
 * asking a new question each (same history, another product excluded each call: an id no
 * catalog has, so the list is the same but no earlier answer fits it), `iterations`
 * timed incremental ones (track one more view_item, then recommend), and intent() when the SDK
 * has it. After each timed call, status().lastInference (the worker's own figures) is read,
 * outside the timed span. Incremental calls are THINK_MS apart (outside the timed span): a
 * shopper's events come seconds apart, and each event's IndexedDB write (made after the
 * recommendation it led to) finishes in between, as it would on a real page.
 */

export async function steadyState({ model, backend, dtype, history, extra, warmup, iterations }) {
  const THINK_MS = 50; // inside: the function runs in the page (serialised by Playwright)
  const sdk = await import('/hunch/hunch.esm.js');
  const hunch = sdk.createHunch({ model, backend, dtype });
  await hunch.forget();
  for (const id of history) hunch.track('view_item', { item_id: id });
  await hunch.flush();
  const status = await hunch.status();
  const lastInference = async () => {
    const { lastInference: stats } = await hunch.status();
    return stats ? { mode: stats.mode, tokens: stats.tokens, contextTokens: stats.contextTokens ?? null, ms: stats.ms, updateMs: stats.updateMs ?? null, scoreMs: stats.scoreMs ?? null, rankMs: stats.rankMs ?? null, entriesMs: stats.entriesMs ?? null } : null;
  };
  let notModel = 0;
  const check = (recs) => {
    if (recs.length !== 20 || recs.some((r) => r.source !== 'model')) notModel++;
  };
  for (let i = 0; i < warmup; i++) check(await hunch.recommend({ k: 20 }));

  const warm = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    const recs = await hunch.recommend({ k: 20 });
    const ms = performance.now() - started;
    check(recs);
    warm.push({ ms, worker: await lastInference() });
  }

  const newQuestion = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    const recs = await hunch.recommend({ k: 20, exclude: [`bench-new-question-${i}`] });
    const ms = performance.now() - started;
    check(recs);
    newQuestion.push({ ms, worker: await lastInference() });
  }

  const incremental = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    hunch.track('view_item', { item_id: extra[i % extra.length] });
    const recs = await hunch.recommend({ k: 20 });
    const ms = performance.now() - started;
    check(recs);
    incremental.push({ ms, worker: await lastInference() });
    await new Promise((resolve) => setTimeout(resolve, THINK_MS));
  }

  let intent = null;
  if (typeof hunch.intent === 'function') {
    for (let i = 0; i < Math.min(warmup, 3); i++) await hunch.intent();
    const runs = [];
    let sample;
    for (let i = 0; i < iterations; i++) {
      const started = performance.now();
      sample = await hunch.intent();
      const ms = performance.now() - started;
      runs.push({ ms, worker: await lastInference() });
    }
    intent = { runs, sample };
  }
  const sample = (await hunch.recommend({ k: 3 })).map(({ item, score, source, reason }) => ({ id: item.id, title: item.title, score, source, reason }));
  return { status, warm, newQuestion, incremental, intent, notModel, sample, long: window.__long };
}

/**
 * A returning shopper's new page: SDK module imported, then createHunch() → status() resolved
 * (worker started, runtime and model loaded from the HTTP cache) → first recommend({ k: 20 }).
 * With `sharedWorker`, the SDK connects to the shop's shared model worker (HunchOptions.sharedWorker):
 * after a page that loaded the model, the next page finds it loaded.
 */
export async function coldStart({ model, backend, dtype, sharedWorker = false }) {
  const t0 = performance.now();
  const sdk = await import('/hunch/hunch.esm.js');
  const t1 = performance.now();
  const hunch = sdk.createHunch({ model, backend, dtype, sharedWorker });
  const status = await hunch.status();
  const t2 = performance.now();
  const recs = await hunch.recommend({ k: 20 });
  const t3 = performance.now();
  const { lastInference: stats } = await hunch.status();
  // Let the observers report a task that ended with the recommendation.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    import_ms: t1 - t0,
    status_ms: t2 - t1,
    first_recommendation_ms: t3 - t1,
    since_navigation_ms: t3,
    recommendations: recs.length,
    source: recs[0]?.source ?? null,
    status,
    worker: stats ? { mode: stats.mode, tokens: stats.tokens, ms: stats.ms } : null,
    long: window.__long,
  };
}
