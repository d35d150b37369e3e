/**
 * The product-quantized item table scored in a WebGPU compute shader: the same asymmetric
 * distance as pq-kernel.ts (per query the lookup table, on the CPU: 256 · width multiply-adds;
 * per item the sum of its M table entries, on the GPU, one invocation per item, summed in the
 * same order), the logits read back for the softmax over every item. A million items are 16
 * million table reads per recommendation: a real GPU's work, where a software adapter's is slow;
 * the worker's warm-up race (race.ts) keeps whichever backend is faster on the device.
 */
import { PQ_CENTROIDS } from '@hunch/core';
import { pqLookupTable, type PqItemHead } from './pq-scorer.js';

const WORKGROUP = 64;
/** Workgroups per dispatch row (WebGPU's limit per dimension is at least 65535). */
const ROW = 32768;

// GPUBufferUsage and GPUMapMode flags (the WebGPU specification's values: the globals exist in browsers only).
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 };
const MAP_READ = 0x1;

/** One invocation per item: Σ_m lut[m][code m] in order from 0 (as pq-kernel.ts), then the bias. */
const shader = (subspaces: number, words: number) => /* wgsl */ `
@group(0) @binding(0) var<storage, read> codes: array<u32>;
@group(0) @binding(1) var<storage, read> lut: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> logits: array<f32>;
@group(0) @binding(4) var<uniform> rows: vec4<u32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let item = id.y * ${ROW * WORKGROUP}u + id.x;
  if (item >= rows.x) { return; }
  var sum = 0.0;
  for (var m = 0u; m < ${subspaces}u; m++) {
    let word = codes[item * ${words}u + m / 4u];
    let code = (word >> (8u * (m % 4u))) & 255u;
    sum = sum + lut[m * ${PQ_CENTROIDS}u + code];
  }
  logits[item] = sum + bias[item];
}`;

export class WebGpuPqScorer {
  readonly rows: number;
  readonly width: number;
  private readonly lut: Float32Array<ArrayBuffer>;
  private readonly centroids: Pick<PqItemHead, 'width' | 'subspaces' | 'codebooks' | 'rotation'>;

  /**
   * Undefined where the browser gives no WebGPU adapter or device, or the table does not fit its
   * buffers; and on a software adapter (SwiftShader: the CPU, slower than the WASM kernel) unless
   * `allowSoftware` (the tests check the shader there).
   */
  static async create(head: PqItemHead, { allowSoftware = false } = {}): Promise<WebGpuPqScorer | undefined> {
    const gpu = (globalThis.navigator as Partial<Navigator> | undefined)?.gpu;
    const adapter = await gpu?.requestAdapter().catch(() => null);
    if (!adapter) return undefined;
    const info = (adapter as GPUAdapter & { info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean });
    if ((info.info?.isFallbackAdapter || info.isFallbackAdapter) && !allowSoftware) return undefined;
    const words = Math.ceil(head.subspaces / 4);
    const needed = head.rows * words * 4;
    const limit = Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize);
    if (needed > limit) return undefined;
    const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: limit, maxBufferSize: limit } }).catch(() => undefined);
    return device && new WebGpuPqScorer(device, head, words);
  }

  private readonly buffers: { codes: GPUBuffer; lut: GPUBuffer; bias: GPUBuffer; logits: GPUBuffer; rows: GPUBuffer; read: GPUBuffer };
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;

  private constructor(
    private readonly device: GPUDevice,
    head: PqItemHead,
    words: number,
  ) {
    const { rows, width, subspaces } = head;
    this.rows = rows;
    this.width = width;
    this.centroids = { width, subspaces, codebooks: head.codebooks, rotation: head.rotation };
    this.lut = new Float32Array(subspaces * PQ_CENTROIDS);
    const storage = (bytes: number, extra = 0) => device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: USAGE.STORAGE | USAGE.COPY_DST | extra });
    // Each item's codes padded to whole 32-bit words, four codes a word, the first in the low byte.
    const packed = new Uint8Array(rows * words * 4);
    for (let r = 0; r < rows; r++) packed.set(head.codes.subarray(r * subspaces, (r + 1) * subspaces), r * words * 4);
    this.buffers = {
      codes: storage(packed.byteLength),
      lut: storage(this.lut.byteLength),
      bias: storage(rows * 4),
      logits: storage(rows * 4, USAGE.COPY_SRC),
      rows: device.createBuffer({ size: 16, usage: USAGE.UNIFORM | USAGE.COPY_DST }),
      read: device.createBuffer({ size: rows * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST }),
    };
    device.queue.writeBuffer(this.buffers.codes, 0, packed);
    device.queue.writeBuffer(this.buffers.bias, 0, head.bias ? Float32Array.from(head.bias) : new Float32Array(rows));
    device.queue.writeBuffer(this.buffers.rows, 0, Uint32Array.of(rows, 0, 0, 0));
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: shader(subspaces, words) }), entryPoint: 'main' } });
    const { codes, lut, bias, logits, rows: count } = this.buffers;
    this.bindGroup = device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [codes, lut, bias, logits, count].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** Writes the logit of every row (token) for `query` (width floats) into `into` (rows floats). */
  async score(query: Float32Array, into: Float32Array): Promise<void> {
    if (query.length !== this.width || into.length !== this.rows) {
      throw new Error(`webgpu pq scorer: a query of ${query.length} for ${this.width} and an output of ${into.length} for ${this.rows} rows`);
    }
    pqLookupTable(this.centroids, query, this.lut);
    const { device, buffers } = this;
    device.queue.writeBuffer(buffers.lut, 0, this.lut);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    const groups = Math.ceil(this.rows / WORKGROUP);
    pass.dispatchWorkgroups(Math.min(groups, ROW), Math.ceil(groups / ROW));
    pass.end();
    encoder.copyBufferToBuffer(buffers.logits, 0, buffers.read, 0, this.rows * 4);
    device.queue.submit([encoder.finish()]);
    await buffers.read.mapAsync(MAP_READ);
    into.set(new Float32Array(buffers.read.getMappedRange(), 0, this.rows));
    buffers.read.unmap();
  }

  dispose(): void {
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
    this.device.destroy();
  }
}
