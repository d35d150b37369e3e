/**
 * The items' softmax without a pass over every item in JS: one WASM SIMD pass (kernel.ts) over
 * the items' logits gives their log-sum-exp and their most probable ones together; a single
 * item's probability is then exp(logit - logSumExp). At a million items the JS softmax (a
 * Math.exp per item) took 54-62 ms, most of a recommendation after a new event.
 *
 * The items' logits are copied into the kernel's memory in item order (the vocabulary's item
 * tokens need not be one run) and scanned in chunks of CHUNK items: between chunks the caller
 * keeps the best `count` candidates and raises the threshold (few pass it once the top has
 * filled), and the sum's shift follows the largest logit seen (a chunk holding a larger one is
 * run again with it: every exp is of a logit at most its shift, so nothing overflows, and the
 * sums of the chunks are added in float64 after rescaling).
 */
import { TopValues } from '../ranking.js';
import { referenceItemScores, type ItemScores } from './item-scores.js';
import { instantiateSummariseKernel, type SummariseKernel } from './kernel.js';

const PAGE = 65536;
/** Items per kernel call: a chunk's float32 lane sums stay short (1,024 adds), its logits in the L1 cache. */
const CHUNK = 4096;
/** The fewest top items kept: a new question (other exclusions) on the same logits is answered from them. */
const MIN_TOP = 64;

/** The smallest float32 above `value` (ties lose: the kernel keeps logits ≥ its threshold); NaN above +Infinity. */
function nextFloat32Up(value: number): number {
  if (value === Infinity || Number.isNaN(value)) return Number.NaN;
  if (value === -Infinity) return -3.4028234663852886e38;
  const bits = new Float32Array([value]);
  const int = new Int32Array(bits.buffer);
  if (value === 0) int[0] = 1;
  else int[0] = value > 0 ? int[0]! + 1 : int[0]! - 1;
  return bits[0]!;
}

export class ItemSoftmax {
  private readonly at: { logits: number; weights: number; candidates: number; result: number };
  // Views of the kernel's memory: made again when it grows (growing detaches the old buffer).
  private logits!: Float32Array;
  private result!: { sums: Float32Array; largest: Float32Array; end: Int32Array };
  /** Every item's probability: memory grown for it on the first call that needs it (categories only). */
  private weights: Float32Array | undefined;
  /** Runs of consecutive item tokens: [first item index, first token, length] each. */
  private readonly runs: Int32Array;
  private readonly blocks: number;
  /** Counts the copies into the kernel's memory: the scores made from one copy read it while it is the last. */
  private copies = 0;

  /** Undefined where WebAssembly SIMD is missing (the JS softmax then runs). */
  static create(itemTokenIds: Int32Array): ItemSoftmax | undefined {
    const kernel = instantiateSummariseKernel();
    return kernel && new ItemSoftmax(kernel, itemTokenIds);
  }

  private constructor(
    private readonly kernel: SummariseKernel,
    private readonly itemTokenIds: Int32Array,
  ) {
    const n = itemTokenIds.length;
    this.blocks = Math.ceil(n / 4);
    const padded = this.blocks * 4;
    const logits = 0;
    const candidates = logits + padded * 4;
    const result = candidates + (CHUNK + 4) * 4;
    const weights = result + 48; // a multiple of 16
    this.at = { logits, weights, candidates, result };
    this.grow(weights);
    this.logits.fill(-Infinity, n); // padding: weighs e^-87, never largest, dropped as a candidate
    const runs: number[] = [];
    for (let i = 0; i < n; ) {
      let length = 1;
      while (i + length < n && itemTokenIds[i + length] === itemTokenIds[i]! + length) length++;
      runs.push(i, itemTokenIds[i]!, length);
      i += length;
    }
    this.runs = Int32Array.from(runs);
  }

  get length(): number {
    return this.itemTokenIds.length;
  }

  /** Memory for `bytes` at least, and the views of it. */
  private grow(bytes: number): void {
    const { memory } = this.kernel;
    const needed = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
    if (needed > 0) memory.grow(needed);
    const { at, blocks } = this;
    this.logits = new Float32Array(memory.buffer, at.logits, blocks * 4);
    this.result = { sums: new Float32Array(memory.buffer, at.result, 4), largest: new Float32Array(memory.buffer, at.result + 16, 4), end: new Int32Array(memory.buffer, at.result + 32, 1) };
  }

  /** The items' scores on `logits` (a step's, by token), with at least the best `count` found. */
  scores(logits: Float32Array, count: number): ItemScores {
    let copy = this.hold(logits);
    // A later step's scores may have replaced the copy (the logits themselves stay: the caller's buffer).
    const held = () => {
      if (this.copies !== copy) copy = this.hold(logits);
    };
    const { largest, total, top: found } = this.scan(Math.max(count, MIN_TOP));
    let top = found;
    // Probabilities as exp(logit - largest) / total, not exp(logit - logSumExp): at huge logits their sum's log is below the float's step.
    const scale = 1 / total;
    let probabilities: Float32Array | undefined;
    return {
      logSumExp: largest === -Infinity ? -Infinity : largest + Math.log(total),
      probability: (index) => (largest === -Infinity ? 0 : Math.fround(Math.exp(logits[this.itemTokenIds[index]!]! - largest) * scale)),
      top: (wanted) => {
        if (wanted > top.length && top.length < this.length) {
          held();
          ({ top } = this.scan(wanted));
        }
        return top.subarray(0, Math.min(wanted, top.length));
      },
      probabilities: () => {
        if (!probabilities) {
          if (!this.weights) {
            this.grow(this.at.weights + this.blocks * 16);
            this.weights = new Float32Array(this.kernel.memory.buffer, this.at.weights, this.blocks * 4);
          }
          held();
          this.run(0, this.blocks, largest, Number.NaN, this.at.weights);
          probabilities = this.weights.subarray(0, this.length);
          if (largest === -Infinity) probabilities.fill(0);
          else for (let i = 0; i < probabilities.length; i++) probabilities[i]! *= scale;
        }
        return probabilities;
      },
    };
  }

  /** Copies the items' logits into the kernel's memory, in item order; returns the copy's number. */
  private hold(logits: Float32Array): number {
    const { runs } = this;
    for (let r = 0; r < runs.length; r += 3) {
      const [index, token, length] = [runs[r]!, runs[r + 1]!, runs[r + 2]!];
      if (length === 1) this.logits[index] = logits[token]!;
      else this.logits.set(logits.subarray(token, token + length), index);
    }
    return ++this.copies;
  }

  /** The kernel over `blocks` blocks from block `from`: largest logit found, and the sum (float64) of its lanes. */
  private run(from: number, blocks: number, shift: number, threshold: number, weights: number): { largest: number; sum: number } {
    const { at, result } = this;
    this.kernel.summarise(at.logits + from * 16, blocks, shift, threshold, at.candidates, at.result, weights === 0 ? 0 : weights + from * 16);
    const { sums, largest } = result;
    return { largest: Math.max(largest[0]!, largest[1]!, largest[2]!, largest[3]!), sum: sums[0]! + sums[1]! + sums[2]! + sums[3]! };
  }

  /** One pass over every item: the largest logit, Σ exp(logit - largest), and the best `count` (by logit; ties: lower index first). */
  private scan(count: number): { largest: number; total: number; top: Int32Array } {
    const n = this.length;
    count = Math.min(count, n);
    const top = new TopValues(count);
    let shift = -Infinity;
    let total = 0;
    const chunkBlocks = CHUNK / 4;
    for (let from = 0; from < this.blocks; from += chunkBlocks) {
      const blocks = Math.min(chunkBlocks, this.blocks - from);
      const lowest = top.lowest;
      const threshold = lowest === undefined ? -Infinity : nextFloat32Up(lowest);
      let { largest, sum } = this.run(from, blocks, shift, threshold, 0);
      if (largest > shift) {
        // A new largest logit: the sum so far rescaled to it, this chunk run again from it.
        total *= Math.exp(shift - largest);
        shift = largest;
        ({ sum } = this.run(from, blocks, shift, threshold, 0));
      }
      if (shift > -Infinity) total += sum;
      // Candidates, in index order (a later equal value stays below).
      const start = this.at.candidates / 4;
      const end = this.result.end[0]! / 4;
      const positions = new Int32Array(this.kernel.memory.buffer, this.at.candidates, end - start);
      for (let c = 0; c < positions.length; c++) {
        const index = from * 4 + positions[c]!;
        if (index >= n) continue;
        top.offer(index, this.logits[index]!);
      }
    }
    return { largest: shift, total, top: top.indices() };
  }
}

/** What scores the items of each step: the WASM pass, or the JS softmax into one reused buffer where SIMD is missing. */
export function itemScoresOf(itemTokenIds: Int32Array): (logits: Float32Array, count: number) => ItemScores {
  const softmax = ItemSoftmax.create(itemTokenIds);
  if (softmax) return (logits, count) => softmax.scores(logits, count);
  const into = new Float32Array(itemTokenIds.length);
  return (logits) => referenceItemScores(logits, itemTokenIds, into);
}
