/**
 * The page's side of the model worker: starts it, loads the model, and turns a failed
 * or missing model into the popular-items fallback instead of an error.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import { logOnce } from './lib/log.js';
import { BACKEND_KEY } from './lib/names.js';
import { connectWorker, type WorkerConnection } from './worker-connection.js';
import { PROTOCOL_VERSION } from './worker/protocol.js';
import type {
  Backend,
  BackendPreference,
  CatalogAnswer,
  CatalogRequest,
  InferenceStats,
  ItemScoring,
  LoadRequest,
  LoadTimings,
  ModelDtype,
  ModelEngine,
  ModelWorkerApi,
  PolicyAnswer,
  Prediction,
  PredictRequest,
} from './worker/protocol.js';

export interface ModelStatus {
  /** 'none' when no model runs: recommendations then come from the popular list. */
  backend: Backend | 'none';
  reason: string;
  /** The ONNX variant running (transformers.js dtype), null when none. */
  dtype: ModelDtype | null;
  /** Its file, relative to the model directory (e.g. "onnx/model_q4.onnx"), null when none. */
  modelFile: string | null;
  modelVersion: string | null;
  /** How the model answered last: the whole window, an extended KV cache, or the last answer reused; and the worker's time. */
  lastInference?: InferenceStats;
  /** Where the model's load time went (ms): hunch.json, runtime, session, indexes, total. */
  load?: LoadTimings;
  /** How items are scored, when a model runs: in the ONNX graph, or by the worker's int8 SIMD kernel (LoadResult.itemScoring). */
  itemScoring?: ItemScoring;
  /** What runs the model, when one runs: the worker's own GPT-2 or onnxruntime-web (LoadResult.engine). */
  engine?: ModelEngine;
}

type RememberedBackend = NonNullable<LoadRequest['remembered']>;

/**
 * The winner of the last warm-up race on this device, if it ran one. The worker races again
 * when the model version changed; the page already uses it to pick the worker bundle.
 */
function rememberedBackend(): RememberedBackend | undefined {
  try {
    const saved = JSON.parse(localStorage.getItem(BACKEND_KEY) ?? 'null') as RememberedBackend | null;
    if ((saved?.backend === 'webgpu' || saved?.backend === 'wasm') && typeof saved.reason === 'string' && typeof saved.modelVersion === 'string') {
      return { backend: saved.backend, reason: saved.reason, modelVersion: saved.modelVersion };
    }
  } catch {
    // No localStorage (or a broken record): race again.
  }
  return undefined;
}

function rememberBackend(choice: RememberedBackend): void {
  try {
    localStorage.setItem(BACKEND_KEY, JSON.stringify(choice));
  } catch {
    // Storage full or blocked: the next visit races again.
  }
}

/** Erases the remembered race result (forget()). */
export function forgetBackendChoice(): void {
  try {
    localStorage.removeItem(BACKEND_KEY);
  } catch {
    // Nothing could have been stored.
  }
}

/** Why the model should not load on this device, or undefined when it may. */
export function deviceSkipReason(nav: Navigator = navigator, secure = globalThis.isSecureContext !== false): string | undefined {
  // Over http:// there is no SubtleCrypto to check the model files against hunch.json (nor a Cache API to keep them).
  if (!secure) return 'not a secure context (http://): the model files cannot be checked, popular items are shown';
  const { connection, deviceMemory } = nav as Navigator & { connection?: { saveData?: boolean }; deviceMemory?: number };
  if (connection?.saveData === true) return 'Save-Data is on: the model is not downloaded, popular items are shown';
  // navigator.deviceMemory reports 0.25, 0.5, 1, 2, ... GiB: below 1 GiB the runtime alone would crowd the page.
  if (typeof deviceMemory === 'number' && deviceMemory < 1) return `low-memory device (${deviceMemory} GiB): popular items are shown`;
  return undefined;
}

export interface ModelClientOptions {
  /** The worker that runs on WebGPU and WASM (and races them). */
  workerUrl: string;
  /** A WASM-only worker (a smaller, faster onnxruntime build), started when the model will run on WASM anyway. */
  wasmWorkerUrl?: string;
  modelUrl: string;
  preference: BackendPreference;
  dtype?: ModelDtype;
  /** Release the worker (and its memory) after this long without a recommendation (default 5 minutes). */
  idleMs?: number;
  /** A recommendation that has not answered by then counts as a failed worker (default 10 s). */
  timeoutMs?: number;
  /** A worker's first recommendation may compile kernels or shaders: it is allowed this long (default 3 × timeoutMs). */
  firstCallTimeoutMs?: number;
  /**
   * A load (hunch.json, the model files' download, the runtime's start) that has not answered by
   * then counts as failed: popular items for this page, no restart (default 60 s).
   */
  loadTimeoutMs?: number;
  /** One SharedWorker for all the shop's pages (kept across navigations), where the browser has SharedWorker. */
  shared?: boolean;
}

/** How many times a page recreates a failed worker before settling for popular items. */
const MAX_RESTARTS = 3;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_LOAD_TIMEOUT_MS = 60_000;

/** `promise`, or a rejection with `message` once `ms` have passed: a worker that stops answering never stalls the page. */
function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export class ModelClient {
  private connection: WorkerConnection | undefined;
  /** Bumped when a shared worker failed: the next start connects to a fresh one. */
  private generation = 0;
  private api: Remote<ModelWorkerApi> | undefined;
  /** The worker's API as soon as it is started (before the model is loaded); undefined when no worker runs. */
  private started!: Promise<Remote<ModelWorkerApi> | undefined>;
  private loading: Promise<ModelStatus>;
  /** The last load's outcome, once it settled. */
  private settled: ModelStatus | undefined;
  private restarts = 0;
  /** Whether the current worker has answered once (its first call may be slow). */
  private warm = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by retire() (forget()): a load that ends afterwards remembers no backend. */
  private retired = false;
  /** Predictions posted to the worker and not answered yet (inFlight()). */
  private readonly sent = new Set<Promise<unknown>>();

  constructor(private readonly options: ModelClientOptions) {
    this.loading = this.start();
  }

  /** The model's status: after a restart, the new worker's. */
  get status(): Promise<ModelStatus> {
    return this.loading;
  }

  private start(): Promise<ModelStatus> {
    let announce!: (api: Remote<ModelWorkerApi> | undefined) => void;
    this.started = new Promise((resolve) => (announce = resolve));
    this.settled = undefined;
    const loading = this.load(announce).finally(() => announce(undefined));
    void loading.then((status) => {
      if (this.loading === loading) this.settled = status;
    });
    return loading;
  }

  private async load(announce: (api: Remote<ModelWorkerApi>) => void): Promise<ModelStatus> {
    const { modelUrl, preference, dtype } = this.options;
    // Not in the task that called createHunch() and status(): with the page's own start-up there,
    // starting the worker and sending the load made it a long task.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const skip = deviceSkipReason();
    if (skip) return none(skip, null);
    const remembered = preference === 'auto' ? rememberedBackend() : undefined;
    const workerUrl = (await this.wasmOnly(remembered)) ? this.options.wasmWorkerUrl! : this.options.workerUrl;
    try {
      // Pages share a worker by URL and name: the same protocol, model and terms, and no failed one.
      const name = ['hunch-model', `v${PROTOCOL_VERSION}`, this.generation, modelUrl, preference, dtype ?? ''].join(' ');
      const connection = connectWorker(workerUrl, { shared: this.options.shared ?? false, name });
      this.connection = connection;
      const api = wrap<ModelWorkerApi>(connection.endpoint);
      this.api = api;
      // A worker whose script fails to load or run (404, CSP, COEP) only fires `error`: without
      // this race the call below would never settle and recommend() would wait forever.
      const failed = new Promise<never>((_, reject) => connection.onError((message) => reject(new Error(`worker ${workerUrl} failed: ${message}`))));
      const request: LoadRequest = { modelUrl, backend: preference, ...(dtype ? { dtype } : {}), ...(remembered ? { remembered } : {}) };
      const answer = api.load(request);
      announce(api);
      const loadTimeoutMs = this.options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
      const { raced, timings, ...result } = await withDeadline(Promise.race([answer, failed]), loadTimeoutMs, `no answer from the model worker's load in ${loadTimeoutMs} ms`);
      // Not after a forget() meanwhile (retire()): it leaves no record behind.
      if (raced && !this.retired) rememberBackend({ backend: result.backend, reason: result.reason, modelVersion: result.modelVersion });
      // Later uncaught errors in the worker (a runtime crash): drop it, the next call starts a new one.
      connection.onError(() => this.fail(connection, new Error('the model worker crashed')));
      return { ...result, load: timings };
    } catch (error) {
      logOnce('model failed to load, showing popular items', error);
      this.stop('failed');
      return none(`model failed to load: ${error instanceof Error ? error.message : String(error)}`, null);
    }
  }

  /**
   * Whether the WASM-only worker will do: WASM was asked for, won an earlier race here, or the
   * browser offers no WebGPU adapter (then 'auto' would pick WASM anyway).
   */
  private async wasmOnly(remembered: RememberedBackend | undefined): Promise<boolean> {
    const { preference, wasmWorkerUrl } = this.options;
    if (!wasmWorkerUrl || preference === 'webgpu') return false;
    if (preference === 'wasm' || remembered?.backend === 'wasm') return true;
    if (remembered?.backend === 'webgpu') return false;
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = await gpu?.requestAdapter().catch(() => null);
    return !adapter;
  }

  /** How the model answered last (see ModelStatus.lastInference). */
  lastInference: InferenceStats | undefined;

  /** A worker released when idle, or dropped after a failure, is started again on demand (up to MAX_RESTARTS). */
  private revive(): void {
    const before = this.settled;
    if (this.api || !before || before.backend === 'none') return;
    this.restarts++;
    this.warm = false;
    this.loading =
      this.restarts <= MAX_RESTARTS
        ? this.start()
        : Promise.resolve(none(`the model worker failed ${MAX_RESTARTS} times: popular items from now on`, before.modelVersion));
  }

  /**
   * The predictions sent to the worker and not answered yet, or undefined when none is: what
   * event writes wait for (StoreOptions.writeAfter). A prediction still waiting for the model
   * to load is not counted: the write would wait for the whole load.
   */
  inFlight(): Promise<unknown> | undefined {
    return this.sent.size > 0 ? Promise.allSettled(this.sent) : undefined;
  }

  /** The model's prediction, or undefined when there is no model to ask (the caller falls back). */
  async predict(request: PredictRequest): Promise<Prediction | undefined> {
    this.revive();
    const status = await this.loading;
    const { api, connection } = this;
    if (status.backend === 'none' || !api || !connection) return undefined;
    try {
      // The first call of a worker may compile kernels or shaders for seconds: it gets longer.
      const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const allowed = this.warm ? timeoutMs : (this.options.firstCallTimeoutMs ?? 3 * timeoutMs);
      const answer = api.predict(request);
      this.sent.add(answer);
      void answer.catch(() => undefined).finally(() => this.sent.delete(answer));
      const prediction = await withDeadline(answer, allowed, `no answer from the model worker in ${allowed} ms`);
      this.warm = true;
      this.releaseWhenIdle();
      this.lastInference = prediction.stats;
      return prediction;
    } catch (error) {
      this.fail(connection, error);
      return undefined;
    }
  }

  /**
   * Catalog entries from the worker, which answers as soon as it has read hunch.json and
   * catalog.json (before the model is loaded); undefined when no worker runs (the caller reads
   * them itself).
   */
  async catalog(request: CatalogRequest): Promise<CatalogAnswer | undefined> {
    this.revive();
    const api = await this.started;
    if (!api || api !== this.api) return undefined;
    try {
      return await api.catalog(request);
    } catch (error) {
      logOnce('the model worker could not read the catalog', error);
      return undefined;
    }
  }

  /** The strategy policy hunch.json names, from the worker; undefined when no worker runs (the caller reads hunch.json itself). */
  async policy(): Promise<PolicyAnswer | undefined> {
    this.revive();
    const api = await this.started;
    if (!api || api !== this.api) return undefined;
    try {
      return await api.policy();
    } catch (error) {
      logOnce('the model worker could not read hunch.json for the policy', error);
      return undefined;
    }
  }

  /** Drops a failed worker (once per worker); the next recommend() starts another, up to MAX_RESTARTS. */
  private fail(connection: WorkerConnection, error: unknown): void {
    logOnce('model worker failed, showing popular items until it is restarted', error);
    if (this.connection === connection) this.stop('failed');
  }

  /**
   * Frees the model's memory after a quiet spell; a later recommend() loads it again (from the
   * HTTP cache). A shared worker is only left: the browser ends it once no page uses it.
   */
  private releaseWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.stop('idle');
      this.restarts--; // an idle release is not a failure: the restart it causes does not count
    }, this.options.idleMs ?? 5 * 60_000);
  }

  /**
   * forget(): ends this page's worker (or its connection to the shared one, which the browser
   * then ends with the history it ran, once no page uses it), after what was already asked of it
   * has answered: its load, the predictions sent, and (one last catalog request behind them)
   * catalog requests. A closed port would leave them waiting forever. The page asks a new client
   * from then on.
   */
  retire(): void {
    this.retired = true;
    const answered = (async () => {
      await this.loading;
      await this.inFlight();
      await this.api?.catalog({ ids: [] });
    })();
    // A worker that stopped answering is ended anyway.
    const given = new Promise((resolve) => setTimeout(resolve, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
    void Promise.race([answered, given])
      .catch(() => undefined)
      .finally(() => this.stop('idle'));
  }

  /** Ends this page's worker (or its connection to the shared one); after a failure a shared one is not connected to again. */
  stop(why: 'failed' | 'idle' = 'failed'): void {
    clearTimeout(this.idleTimer);
    this.api?.[releaseProxy]();
    if (why === 'failed' && this.connection?.shared) this.generation++;
    this.connection?.close();
    this.api = undefined;
    this.connection = undefined;
  }
}

function none(reason: string, modelVersion: string | null): ModelStatus {
  return { backend: 'none', reason, dtype: null, modelFile: null, modelVersion };
}
