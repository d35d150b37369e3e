/**
 * The model through onnxruntime-web: transformers.js loads the model directory; each step
 * then runs its onnxruntime session directly, on onnxruntime tensors (its model call checks the
 * inputs and wraps every tensor on every event, and the worker keeps the cache itself anyway).
 * On WASM with an int8 file the graph's LM head is cut off at load and the worker's kernel
 * scores the items (item-head/).
 */
import { AutoModelForCausalLM } from '@huggingface/transformers';
import { LOGITS_OUTPUT, ONNX_VARIANT_FILES, type HunchManifest } from '@hunch/core';
import { ItemScorer } from '../item-head/scorer.js';
import { splitItemHead } from '../item-head/split.js';
import { withQueryOutput } from '../new-items/query-output.js';
import { modelLoaded, prepareModelFiles, webgpuDeviceInUse, type ModelFileRewrite } from './runtime.js';
import { lastRow } from '../ranking.js';
import type { ModelCache, ModelRunner, RunnerStep } from '../runner.js';
import { transformersDtype, type DtypeChoice } from '../variant.js';
import type { Backend } from '../protocol.js';
// The onnxruntime-web transformers.js runs on (rollup resolves it to this module's build: module-*.ts).
import { Tensor } from 'onnxruntime-web/webgpu';

/** What a step needs of the onnxruntime session transformers.js created. */
interface ModelSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

/** present.{i}.key/value of a step, renamed past_key_values.{i}.* for the next (GPU buffers under WebGPU: disposed, not collected). */
class TensorCache implements ModelCache {
  constructor(readonly tensors: Record<string, Tensor>) {}
  dispose(): void {
    for (const tensor of Object.values(this.tensors)) tensor.dispose?.();
  }
}

/** The session's runner; throws (the model disposed) when the session cannot serve Hunch's steps. */
export async function loadOrtRunner(modelUrl: string, manifest: HunchManifest, backend: Backend, variant: DtypeChoice): Promise<{ runner: ModelRunner; runtimeMs: number }> {
  const started = performance.now();
  let itemHead: { query: string; scorer: ItemScorer } | undefined;
  // With an attribute table the new products are scored from the head's query (new-items/): the graph returns it.
  let queryOutput: string | undefined;
  const width = manifest.onnx ? manifest.onnx.cache.heads * manifest.onnx.cache.headDim : 0;
  const wantsQuery = manifest.attributes !== undefined && width > 0;
  const rewrite: ModelFileRewrite = {
    path: variant.file,
    rewrite: (bytes) => {
      const cut = backend === 'wasm' ? withOwnItemHead(bytes) : undefined;
      itemHead = cut?.itemHead;
      if (cut) return cut.body;
      const exposed = wantsQuery ? exposeQuery(bytes, width) : undefined;
      queryOutput = exposed?.query;
      return exposed?.body ?? bytes;
    },
  };
  // pq has no transformers.js dtype: it asks for the fp32 file and gets the pq graph, whole
  // (its head's query exposed when new products are scored from it).
  const pqAsFp32: ModelFileRewrite = {
    path: ONNX_VARIANT_FILES.fp32,
    source: variant.file,
    rewrite: (bytes) => {
      const exposed = wantsQuery ? exposeQuery(bytes, width) : undefined;
      queryOutput = exposed?.query;
      return exposed?.body ?? bytes;
    },
  };
  const id = await prepareModelFiles(modelUrl, manifest, variant.dtype === 'pq' ? pqAsFp32 : backend === 'wasm' || wantsQuery ? rewrite : undefined);
  const runtimeMs = performance.now() - started;
  const model = await AutoModelForCausalLM.from_pretrained(id, { local_files_only: true, device: backend, dtype: transformersDtype(variant.dtype) });
  const refuse = async (why: string): Promise<never> => {
    await model.dispose();
    throw new Error(why);
  };
  // onnxruntime-web would fall back to WASM silently: check that WebGPU really runs.
  if (backend === 'webgpu' && !webgpuDeviceInUse()) await refuse('asked onnxruntime for webgpu but it runs on wasm');
  const found = (model as unknown as { sessions: Record<string, ModelSession | undefined> }).sessions.model;
  const session = found ?? (await refuse(`transformers.js made no session for ${variant.file}`));
  const repeatOutput = manifest.onnx?.repeat?.output;
  if (repeatOutput && !session.outputNames.includes(repeatOutput)) await refuse(`hunch.json names the repeat output ${repeatOutput} but ${variant.file} has none`);
  const config = model.config as unknown as { n_head?: number; n_embd?: number };
  const heads = manifest.onnx?.cache.heads ?? config.n_head ?? 1;
  const headDim = manifest.onnx?.cache.headDim ?? (config.n_embd ?? heads) / heads;
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const emptyCache = () => Object.fromEntries(pastNames.map((name) => [name, new Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])]));
  // Loaded: keep this version's files (and manifest) for offline visits, drop other versions'.
  await modelLoaded(modelUrl, manifest);

  /**
   * Only the last position's logits are computed (num_logits_to_keep = 1; a graph without that
   * input ignores it and returns every position, of which the last is read).
   */
  async function step(newTokens: readonly number[], contextLength: number, past: ModelCache | undefined, into: Float32Array): Promise<RunnerStep> {
    const inputs: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(newTokens, BigInt), [1, newTokens.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(contextLength).fill(1n), [1, contextLength]),
      num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []),
      ...(past ? (past as TensorCache).tensors : emptyCache()),
    };
    // Only the inputs the graph has (an older export has no num_logits_to_keep).
    const missing = session.inputNames.filter((name) => !inputs[name]);
    if (missing.length > 0) throw new Error(`the model wants inputs this worker does not feed: ${missing.join(', ')}`);
    const outputs = await session.run(Object.fromEntries(session.inputNames.map((name) => [name, inputs[name]!])));
    const cache = new TensorCache({});
    try {
      const output = (name: string) => {
        const tensor = outputs[name];
        if (!tensor) throw new Error(`the model returned no ${name}`);
        return tensor;
      };
      // The logits go to `into`: scored there, or copied from the graph's output (freed below).
      let query: Float32Array | undefined;
      if (itemHead) {
        const tensor = output(itemHead.query);
        query = lastRow(tensor.data as Float32Array, tensor.dims, itemHead.scorer.width, itemHead.query);
        itemHead.scorer.score(query, into);
      } else {
        const logits = output(LOGITS_OUTPUT);
        into.set(lastRow(logits.data as Float32Array, logits.dims, into.length, LOGITS_OUTPUT));
        if (queryOutput) {
          const tensor = output(queryOutput);
          query = lastRow(tensor.data as Float32Array, tensor.dims, width, queryOutput);
        }
      }
      const bonus = repeatOutput ? output(repeatOutput) : undefined;
      const repeat = bonus && lastRow(bonus.data as Float32Array, bonus.dims, 1, repeatOutput!)[0]!;
      for (const [name, tensor] of Object.entries(outputs)) {
        if (name.startsWith('present.')) cache.tensors[name.replace('present.', 'past_key_values.')] = tensor;
      }
      // A copy: the output tensors are freed below.
      return { cache, repeat, ...(query ? { query: query.slice() } : {}) };
    } catch (error) {
      cache.dispose();
      throw error;
    } finally {
      // Everything but the cache is read: free it (under WebGPU tensors may hold GPU buffers).
      for (const [name, tensor] of Object.entries(outputs)) if (!name.startsWith('present.')) tensor.dispose?.();
    }
  }

  return {
    runtimeMs,
    runner: {
      engine: 'onnxruntime-web',
      itemScoring: itemHead ? 'int8-simd' : 'graph',
      returnsQuery: Boolean(itemHead ?? queryOutput),
      scoredTokens: itemHead?.scorer.rows,
      step,
      dispose: async () => {
        await model.dispose();
      },
    },
  };
}

/** The graph with its head's query as an output too (new-items/query-output.ts); undefined keeps it as it is. */
function exposeQuery(bytes: Uint8Array, width: number): { body: Uint8Array; query: string } | undefined {
  try {
    return withQueryOutput(bytes, width);
  } catch {
    return undefined;
  }
}

/**
 * The graph without its int8 LM head, and the worker's scorer in its place; undefined keeps the
 * graph whole (its logits are not an int8 tied head, no WebAssembly SIMD, or bytes this cannot
 * read: still a valid model, whose head onnxruntime then runs).
 */
function withOwnItemHead(bytes: Uint8Array): { body: Uint8Array; itemHead: { query: string; scorer: ItemScorer } } | undefined {
  try {
    const split = splitItemHead(bytes);
    const scorer = split && ItemScorer.create(split.head);
    return split && scorer ? { body: split.body, itemHead: { query: split.head.query, scorer } } : undefined;
  } catch {
    return undefined;
  }
}
