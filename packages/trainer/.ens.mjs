// packages/trainer/src/data/sequence-set.ts
var SequenceSet = class {
  /**
   * @param values all sequences back to back
   * @param offsets `length + 1` entries; sequence i is `values[offsets[i]..offsets[i+1])`
   */
  constructor(values, offsets) {
    this.values = values;
    this.offsets = offsets;
    if (offsets.length === 0 || offsets[0] !== 0 || offsets[offsets.length - 1] !== values.length) {
      throw new Error("SequenceSet: offsets must start at 0 and end at values.length");
    }
  }
  values;
  offsets;
  /** Number of sequences. */
  get length() {
    return this.offsets.length - 1;
  }
  /** Total number of values over all sequences. */
  get totalLength() {
    return this.values.length;
  }
  /** Sequence i as a view (no copy): do not modify it. */
  get(i) {
    return this.values.subarray(this.offsets[i], this.offsets[i + 1]);
  }
  /** Length of sequence i. */
  lengthOf(i) {
    return this.offsets[i + 1] - this.offsets[i];
  }
  *[Symbol.iterator]() {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
  /** A set from plain arrays (tests, small data). */
  static from(sequences) {
    const builder = new SequenceSetBuilder();
    for (const sequence of sequences) builder.push(sequence);
    return builder.build();
  }
};
var SequenceSetBuilder = class {
  values = new Int32Array(1024);
  offsets = new Int32Array(256);
  valueCount = 0;
  sequenceCount = 0;
  /** Appends one sequence (copied). */
  push(sequence) {
    this.reserve(sequence.length);
    for (let i = 0; i < sequence.length; i++) this.values[this.valueCount++] = sequence[i];
    this.endSequence();
  }
  /** Appends a value to the sequence being built; close it with `endSequence()`. */
  pushValue(value) {
    this.reserve(1);
    this.values[this.valueCount++] = value;
  }
  endSequence() {
    if (this.sequenceCount + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.sequenceCount + 2);
    this.offsets[++this.sequenceCount] = this.valueCount;
  }
  /** Drops the values pushed since the last `endSequence()`. */
  discardSequence() {
    this.valueCount = this.offsets[this.sequenceCount];
  }
  get length() {
    return this.sequenceCount;
  }
  build() {
    return new SequenceSet(
      this.values.slice(0, this.valueCount),
      this.offsets.slice(0, this.sequenceCount + 1)
    );
  }
  reserve(extra) {
    if (this.valueCount + extra > this.values.length) this.values = grow(this.values, this.valueCount + extra);
  }
};
function grow(array, needed) {
  const bigger = new Int32Array(Math.max(needed, array.length * 2));
  bigger.set(array);
  return bigger;
}
function countItems(sequences, numItems) {
  const counts = new Int32Array(numItems);
  for (const item of sequences.values) counts[item]++;
  return counts;
}

// packages/trainer/src/data/item-index.ts
var ItemIndex = class _ItemIndex {
  byRaw = /* @__PURE__ */ new Map();
  raw = [];
  /** Number of items. */
  get size() {
    return this.raw.length;
  }
  /** Raw ids by dense index. */
  get rawIds() {
    return this.raw;
  }
  /** Dense index of `rawId`, adding it when new. */
  add(rawId) {
    const key = String(rawId);
    let index = this.byRaw.get(key);
    if (index === void 0) {
      index = this.raw.length;
      this.byRaw.set(key, index);
      this.raw.push(key);
    }
    return index;
  }
  /** Dense index of `rawId`, or -1 when it is not in the index. */
  indexOf(rawId) {
    return this.byRaw.get(String(rawId)) ?? -1;
  }
  /** Raw id of a dense index. */
  rawId(index) {
    const raw = this.raw[index];
    if (raw === void 0) throw new RangeError(`ItemIndex: no item ${index} (size ${this.size})`);
    return raw;
  }
  /** An index of every item in `sequences` (raw ids), in order of first appearance. */
  static fromSequences(sequences) {
    const index = new _ItemIndex();
    for (const sequence of sequences) for (let i = 0; i < sequence.length; i++) index.add(sequence[i]);
    return index;
  }
};
var CANONICAL_INTEGER = /^(0|[1-9][0-9]*)$/;
function compareRawIds(a, b) {
  if (CANONICAL_INTEGER.test(a) && CANONICAL_INTEGER.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
var UNKNOWN_ITEM = -1;
function encodeSequences(raw, index, options = {}) {
  const builder = new SequenceSetBuilder();
  let unknownItems = 0;
  for (const sequence of raw) {
    for (const value of sequence) {
      const dense = index.indexOf(value);
      if (dense < 0) {
        unknownItems++;
        if (options.keepUnknown) builder.pushValue(UNKNOWN_ITEM);
      } else builder.pushValue(dense);
    }
    builder.endSequence();
  }
  return { sequences: builder.build(), unknownItems };
}

// packages/trainer/src/data/lines.ts
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
function reason(error) {
  const code = error?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") return "not a valid gzip file";
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
function fileError(path, error) {
  return new Error(`Cannot read ${path}: ${reason(error)}`, { cause: error });
}
function opened(stream) {
  return new Promise((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
}
async function* readLines(path) {
  const file = createReadStream(path);
  try {
    await opened(file);
  } catch (error) {
    throw fileError(path, error);
  }
  let input2 = file;
  if (path.endsWith(".gz")) {
    const gunzip = createGunzip();
    input2 = pipeline(file, gunzip, () => void 0);
  }
  input2.setEncoding("utf8");
  let pending = "";
  let number = 0;
  try {
    for await (const chunk of input2) {
      pending += chunk;
      let start2 = 0;
      let end;
      while ((end = pending.indexOf("\n", start2)) !== -1) {
        const stop = end > start2 && pending.charCodeAt(end - 1) === 13 ? end - 1 : end;
        yield { line: pending.slice(start2, stop), number: ++number };
        start2 = end + 1;
      }
      pending = pending.slice(start2);
    }
  } catch (error) {
    throw fileError(path, error);
  } finally {
    file.destroy();
  }
  if (pending !== "") yield { line: pending.endsWith("\r") ? pending.slice(0, -1) : pending, number: ++number };
}

// packages/trainer/src/data/research.ts
var MAX_REPORTED = 5;
var MAX_ID = 2 ** 31 - 1;
var INTEGER = /^[0-9]+$/;
function parseId(token) {
  if (!INTEGER.test(token)) return -1;
  const value = Number(token);
  return value <= MAX_ID ? value : -1;
}
async function importLines(path, what, parse) {
  const report = { skipped: 0, firstSkippedLines: [] };
  let accepted = 0;
  for await (const { line, number } of readLines(path)) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (parse(trimmed.split(/\s+/))) {
      accepted++;
      continue;
    }
    report.skipped++;
    if (report.firstSkippedLines.length < MAX_REPORTED) report.firstSkippedLines.push(number);
  }
  if (accepted === 0) {
    const detail = report.skipped > 0 ? `all ${report.skipped} non-blank lines are malformed` : "it is empty";
    throw new Error(`No ${what} in ${path}: ${detail}`);
  }
  return report;
}
function pushIds(builder, tokens, from) {
  for (let i = from; i < tokens.length; i++) {
    const id = parseId(tokens[i]);
    if (id < 0) {
      builder.discardSequence();
      return false;
    }
    builder.pushValue(id);
  }
  builder.endSequence();
  return true;
}
async function readSessions(path) {
  const builder = new SequenceSetBuilder();
  const report = await importLines(path, "sessions", (tokens) => pushIds(builder, tokens, 0));
  return { sessions: builder.build(), ...report };
}
async function readSequences(path) {
  const builder = new SequenceSetBuilder();
  const users = [];
  const report = await importLines(path, "sequences", (tokens) => {
    const user = tokens[0];
    if (tokens.length < 2 || parseId(user) < 0 || !pushIds(builder, tokens, 1)) return false;
    users.push(user);
    return true;
  });
  return { sequences: builder.build(), users, ...report };
}

// packages/trainer/src/eval/protocols.ts
function sessionExamples(sessions) {
  let count = 0;
  for (let s = 0; s < sessions.length; s++) count += Math.max(0, sessions.lengthOf(s) - 1);
  const prefixes = new Array(count);
  const targets = new Int32Array(count);
  const sources = new Int32Array(count);
  let e = 0;
  for (let s = 0; s < sessions.length; s++) {
    const session = sessions.get(s);
    const known = session.includes(UNKNOWN_ITEM) ? session.filter((item) => item !== UNKNOWN_ITEM) : session;
    let knownBefore = known.length;
    for (let i = 1; i < session.length; i++, e++) {
      if (session[session.length - i] !== UNKNOWN_ITEM) knownBefore--;
      prefixes[e] = known.subarray(0, knownBefore);
      targets[e] = session[session.length - i];
      sources[e] = s;
    }
  }
  return { prefixes, targets, sources };
}
function countUnknown(examples2) {
  let targets = 0;
  let prefixes = 0;
  examples2.targets.forEach((target, e) => {
    if (target === UNKNOWN_ITEM) targets++;
    else if (examples2.prefixes[e].length === 0) prefixes++;
  });
  return { targets, prefixes };
}
function leaveOneOut(sequences) {
  const kept = [];
  for (let u = 0; u < sequences.length; u++) if (sequences.lengthOf(u) >= 3) kept.push(u);
  const train = new SequenceSetBuilder();
  const validation = {
    prefixes: new Array(kept.length),
    targets: new Int32Array(kept.length),
    sources: Int32Array.from(kept)
  };
  const test = {
    prefixes: new Array(kept.length),
    targets: new Int32Array(kept.length),
    sources: Int32Array.from(kept)
  };
  kept.forEach((u, e) => {
    const items = sequences.get(u);
    const n2 = items.length;
    train.push(items.subarray(0, n2 - 2));
    validation.prefixes[e] = items.subarray(0, n2 - 2);
    validation.targets[e] = items[n2 - 2];
    test.prefixes[e] = items.subarray(0, n2 - 1);
    test.targets[e] = items[n2 - 1];
  });
  return { train: train.build(), validation, test, tooShort: sequences.length - kept.length };
}

// packages/trainer/src/eval/benchmark-data.ts
var skipReport = ({ skipped, firstSkippedLines }) => ({ skipped, firstSkippedLines });
async function loadSessionsBenchmark(trainPath, testPath) {
  const [trainRaw, testRaw] = await Promise.all([readSessions(trainPath), readSessions(testPath)]);
  const items = ItemIndex.fromSequences(trainRaw.sessions);
  const train = encodeSequences(trainRaw.sessions, items).sequences;
  const test = encodeSequences(testRaw.sessions, items, { keepUnknown: true });
  const examples2 = sessionExamples(test.sequences);
  return {
    protocol: "sessions",
    items,
    train,
    test: examples2,
    unknown: countUnknown(examples2),
    popularity: countItems(train, items.size),
    mask: "none",
    skipped: { [trainPath]: skipReport(trainRaw), [testPath]: skipReport(testRaw) },
    unknownTestItems: test.unknownItems,
    tooShortUsers: 0
  };
}
async function loadLeaveOneOutBenchmark(path) {
  const raw = await readSequences(path);
  const items = ItemIndex.fromSequences(raw.sequences);
  const split2 = leaveOneOut(encodeSequences(raw.sequences, items).sequences);
  return {
    protocol: "leave-one-out",
    items,
    train: split2.train,
    test: split2.test,
    validation: split2.validation,
    users: raw.users,
    popularity: countItems(split2.train, items.size),
    mask: "history",
    skipped: { [path]: skipReport(raw) },
    unknownTestItems: 0,
    unknown: countUnknown(split2.test),
    tooShortUsers: split2.tooShort
  };
}
function loadBenchmarkData(input2) {
  return input2.format === "sessions" ? loadSessionsBenchmark(input2.train, input2.test) : loadLeaveOneOutBenchmark(input2.data);
}

// packages/core/src/events.ts
var EVENT_NAMES = [
  "page_view",
  "view_item",
  "view_item_list",
  "select_item",
  "search",
  "add_to_cart",
  "remove_from_cart",
  "view_cart",
  "begin_checkout",
  "purchase",
  "experience_impression",
  "decision",
  "view_promotion",
  "select_promotion"
];
var EXPOSURE_EVENT = "experience_impression";
var DECISION_EVENT = "decision";
var NOT_BEHAVIOUR = /* @__PURE__ */ new Set([EXPOSURE_EVENT, DECISION_EVENT, "view_promotion", "select_promotion"]);
var isBehaviourEvent = (name) => !NOT_BEHAVIOUR.has(name);
var EVENT_NAME_SET = new Set(EVENT_NAMES);

// packages/core/src/bpe.ts
var GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
var byteSymbols;
function byteAlphabet() {
  if (byteSymbols) return byteSymbols;
  const printable = (b) => b >= 33 && b <= 126 || b >= 161 && b <= 172 || b >= 174 && b <= 255;
  let next = 256;
  byteSymbols = Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
  return byteSymbols;
}
var encoder = new TextEncoder();
function byteLevelWords(text) {
  const alphabet = byteAlphabet();
  return Array.from(text.matchAll(GPT2_SPLIT), ([word]) => Array.from(encoder.encode(word), (b) => alphabet[b]).join(""));
}
var pairKey = (a, b) => `${a} ${b}`;
var ByteLevelBPE = class {
  constructor(merges) {
    this.merges = merges;
    this.ranks = new Map(merges.map(([a, b], rank) => [pairKey(a, b), rank]));
  }
  merges;
  ranks;
  cache = /* @__PURE__ */ new Map();
  /** Every symbol this BPE can output: the byte alphabet, then one per merge, in order. */
  symbols() {
    return [...byteAlphabet(), ...this.merges.map(([a, b]) => a + b)];
  }
  /** The BPE pieces of `text`. */
  encode(text) {
    return byteLevelWords(text).flatMap((word) => this.encodeWord(word));
  }
  /** The BPE pieces of one pre-tokenized word (as byteLevelWords gives it). */
  encodeWord(word) {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let parts = Array.from(word);
    for (; ; ) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rank = this.ranks.get(pairKey(parts[i], parts[i + 1]));
        if (rank !== void 0 && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [parts[best], parts[best + 1]];
      const merged = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]);
      }
      parts = merged;
    }
    if (this.cache.size < 1e4) this.cache.set(word, parts);
    return parts;
  }
};

// packages/core/src/encoding.ts
var PAD_TOKEN = "[PAD]";
var BOS_TOKEN = "[BOS]";
var UNK_TOKEN = "[UNK]";
var SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, UNK_TOKEN];
var END_OF_TEXT_TOKEN = "<|endoftext|>";
var MAX_SEARCH_PIECES = 8;
var ITEM_PREFIX = "item:";
var SEARCH_PREFIX = "q:";
var actionToken = (name) => `<${name}>`;
var itemToken = (itemId) => `${ITEM_PREFIX}${itemId}`;
function isItemToken(token) {
  return token.startsWith(ITEM_PREFIX);
}
function itemIdOfToken(token) {
  return isItemToken(token) ? token.slice(ITEM_PREFIX.length) : void 0;
}
function normalizeSearch(term) {
  return term.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}
function eventTokens(event, searchPieces, textPrefix = SEARCH_PREFIX) {
  const { item_id, search_term } = event.params;
  if (!isBehaviourEvent(event.name)) return [];
  if (event.name === "view_item" && item_id !== void 0) return [itemToken(item_id)];
  const tokens = [actionToken(event.name)];
  if (item_id !== void 0) tokens.push(itemToken(item_id));
  if (event.name === "search" && search_term !== void 0) {
    for (const piece of searchPieces(normalizeSearch(search_term)).slice(0, MAX_SEARCH_PIECES)) tokens.push(textPrefix + piece);
  }
  return tokens;
}
var Vocabulary = class {
  constructor(tokens, merges = []) {
    this.merges = merges;
    this.bpe = new ByteLevelBPE(merges);
    this.ids = /* @__PURE__ */ new Map();
    tokens.forEach((token, index) => {
      if (this.ids.has(token)) throw new Error(`vocabulary lists ${JSON.stringify(token)} twice`);
      this.ids.set(token, index);
    });
    this.tokens = tokens;
    if (SPECIAL_TOKENS.every((special, index) => tokens[index] === special)) {
      [this.pad, this.bos, this.unk] = [0, 1, 2];
      this.textPrefix = SEARCH_PREFIX;
    } else if (this.ids.has(END_OF_TEXT_TOKEN) && this.ids.has(UNK_TOKEN)) {
      this.bos = this.pad = this.ids.get(END_OF_TEXT_TOKEN);
      this.unk = this.ids.get(UNK_TOKEN);
      this.textPrefix = "";
    } else {
      throw new Error(`vocabulary must start with ${SPECIAL_TOKENS.join(", ")} (or hold ${END_OF_TEXT_TOKEN} and ${UNK_TOKEN})`);
    }
  }
  merges;
  tokens;
  /** Id of the token every history starts with. */
  bos;
  /** Id used for padding (and GPT-2's EOS). */
  pad;
  /** Id of unknown actions, items (and, in Hunch vocabularies, unknown text). */
  unk;
  /** What precedes a search-text piece in its token string. */
  textPrefix;
  ids;
  bpe;
  get size() {
    return this.tokens.length;
  }
  /** The id of a token string, or of [UNK] when the vocabulary lacks it. */
  id(token) {
    return this.ids.get(token) ?? this.unk;
  }
  has(token) {
    return this.ids.has(token);
  }
  /** The token strings of one event under this vocabulary's search-text merges. */
  eventTokens(event) {
    return eventTokens(event, (text) => this.bpe.encode(text), this.textPrefix);
  }
  /** Ids of all item tokens with their item ids: the candidates a recommender ranks. */
  items() {
    const items = [];
    this.tokens.forEach((token, tokenId) => {
      const itemId = itemIdOfToken(token);
      if (itemId !== void 0) items.push({ tokenId, itemId });
    });
    return items;
  }
};

// packages/core/src/item-attributes.ts
var ATTR_TABLE = "hunch.attr.table";
var ATTR_BIAS = "hunch.attr.bias";

// packages/core/src/catalog-shards.ts
var CATALOG_SHARD_THRESHOLD = 2 * 1024 * 1024;
var CATALOG_SHARD_BYTES = 32 * 1024;

// packages/core/src/model-contract.ts
var ITEM_BIAS = "lm_head.bias";
var COSINE_SCALE = "hunch.cosine.scale";
var REPEAT_WEIGHT = "hunch.repeat.weight";
var REPEAT_BIAS = "hunch.repeat.bias";
var ITEM_TABLE = "transformer.wte.weight";
var CONSTANT_PREFIX = "const.";
var HEAD_SHAPE = `${CONSTANT_PREFIX}head_shape`;

// packages/core/src/strategies/policy.ts
var FUNNEL_STAGES = ["browsing", "researching", "comparing", "ready_to_buy", "at_risk_of_leaving"];
var DECISION_FEATURES = [
  "bias",
  ...FUNNEL_STAGES.map((stage) => `stage:${stage}`),
  "purchase_probability",
  "purchase_probability_squared",
  "no_model",
  "cart_items",
  "log_cart_value",
  "log_session_events",
  "free_shipping_gap_open",
  "free_shipping_gap",
  ...FUNNEL_STAGES.map((stage) => `stage:${stage}*purchase_probability`),
  ...FUNNEL_STAGES.map((stage) => `stage:${stage}*log_cart_value`),
  "purchase_probability*log_cart_value",
  "free_shipping_gap_open*purchase_probability"
];

// packages/core/src/intent/session-purchase.ts
var SESSION_PURCHASE_FEATURES = [
  "log_views",
  "distinct_share",
  "log_seconds",
  "log_add_to_cart",
  "log_remove_from_cart",
  "log_begin_checkout",
  "log_searches",
  "log_next_buying_step"
];
var SESSION_BEHAVIOUR_FEATURES = SESSION_PURCHASE_FEATURES.filter((name) => name !== "log_next_buying_step");

// packages/trainer/src/checkpoint.ts
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

// packages/trainer/src/model.ts
import * as tf from "@tensorflow/tfjs";
function parameterShapes(config) {
  const { vocabSize: V, nPositions: P, nEmbd: D, nLayer } = config;
  const shapes = [
    ["transformer.wte.weight", [V, D]],
    ["transformer.wpe.weight", [P, D]]
  ];
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    shapes.push(
      [`${h}.ln_1.weight`, [D]],
      [`${h}.ln_1.bias`, [D]],
      [`${h}.attn.c_attn.weight`, [D, 3 * D]],
      [`${h}.attn.c_attn.bias`, [3 * D]],
      [`${h}.attn.c_proj.weight`, [D, D]],
      [`${h}.attn.c_proj.bias`, [D]],
      [`${h}.ln_2.weight`, [D]],
      [`${h}.ln_2.bias`, [D]],
      [`${h}.mlp.c_fc.weight`, [D, 4 * D]],
      [`${h}.mlp.c_fc.bias`, [4 * D]],
      [`${h}.mlp.c_proj.weight`, [4 * D, D]],
      [`${h}.mlp.c_proj.bias`, [D]]
    );
  }
  shapes.push(["transformer.ln_f.weight", [D]], ["transformer.ln_f.bias", [D]]);
  return shapes;
}
function swapLast(t) {
  const perm = [...Array(t.rank).keys()];
  [perm[t.rank - 1], perm[t.rank - 2]] = [t.rank - 2, t.rank - 1];
  return tf.transpose(t, perm);
}
function matMul2(a, b) {
  const op = tf.customGrad(((...args) => {
    const [x, y, save] = args;
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy, saved) => [tf.matMul(dy, swapLast(saved[1])), tf.matMul(swapLast(saved[0]), dy)]
    };
  }));
  return op(a, b);
}
function transformer(p, config, tokens, B, T, attentionMask, dropout) {
  const { nEmbd: D, nLayer } = config;
  if (T > config.nPositions) throw new Error(`sequence of ${T} tokens exceeds the context of ${config.nPositions}`);
  const positions = p("transformer.wpe.weight").slice([0, 0], [T, D]);
  let x = tokens.reshape([B, T, D]).add(positions).reshape([B * T, D]);
  const drop = dropout ?? ((t) => t);
  x = drop(x, 0);
  const maskBias = attentionBias(T, attentionMask);
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    x = x.add(drop(attention(p, config, layerNorm(p, config, x, `${h}.ln_1`), h, B, T, maskBias), 1 + 2 * i));
    x = x.add(drop(mlp(p, layerNorm(p, config, x, `${h}.ln_2`), h), 2 + 2 * i));
  }
  return layerNorm(p, config, x, "transformer.ln_f");
}
function layerNorm(p, config, x, prefix) {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = x.sub(mean).mul(tf.rsqrt(variance.add(config.layerNormEpsilon)));
  return normed.mul(p(`${prefix}.weight`)).add(p(`${prefix}.bias`));
}
function linear(p, x, prefix) {
  return matMul2(x, p(`${prefix}.weight`)).add(p(`${prefix}.bias`));
}
function attention(p, config, x, h, B, T, maskBias) {
  const { nEmbd: D, nHead: H } = config;
  const hd = D / H;
  const [q, k, v] = tf.split(linear(p, x, `${h}.attn.c_attn`), 3, 1);
  const heads = (t) => t.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]);
  const kT = k.reshape([B, T, H, hd]).transpose([0, 2, 3, 1]);
  const scores = matMul2(heads(q), kT).mul(1 / Math.sqrt(hd)).add(maskBias);
  const y = matMul2(tf.softmax(scores), heads(v));
  return linear(p, y.transpose([0, 2, 1, 3]).reshape([B * T, D]), `${h}.attn.c_proj`);
}
function mlp(p, x, h) {
  return linear(p, geluNew(linear(p, x, `${h}.mlp.c_fc`)), `${h}.mlp.c_proj`);
}
function geluNew(x) {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}
function attentionBias(T, attentionMask) {
  let allowed = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).reshape([1, 1, T, T]);
  if (attentionMask) {
    const keys = attentionMask.toFloat().reshape([attentionMask.shape[0], 1, 1, T]);
    allowed = allowed.mul(keys);
  }
  return allowed.sub(1).mul(1e9);
}

// packages/trainer/src/safetensors.ts
var isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
var elementCount = (shape) => shape.reduce((n2, d) => n2 * d, 1);
function decodeSafetensors(bytes) {
  if (bytes.length < 8) throw new Error("safetensors: file is shorter than its 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new Error("safetensors: header length exceeds the file");
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new Error("safetensors: header is not valid JSON");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = /* @__PURE__ */ new Map();
  let metadata = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = raw;
      continue;
    }
    const entry = raw;
    if (entry.dtype !== "F32") throw new Error(`safetensors: tensor ${name} has dtype ${entry.dtype}; only F32 is supported`);
    const [begin, end] = entry.data_offsets;
    const count = elementCount(entry.shape);
    if (!(begin >= 0 && end <= dataLength && end - begin === count * 4)) {
      throw new Error(`safetensors: tensor ${name} has byte range [${begin}, ${end}) that does not match shape [${entry.shape.join(", ")}]`);
    }
    const data2 = new Float32Array(count);
    for (let i = 0; i < count; i++) data2[i] = view.getFloat32(dataStart + begin + i * 4, true);
    tensors.set(name, { shape: [...entry.shape], data: data2 });
  }
  return { tensors, metadata };
}

// packages/trainer/src/checkpoint.ts
var CHECKPOINT_FORMAT = "hunch-checkpoint";
function parseHfConfig(raw, where) {
  const c = raw ?? {};
  const int = (key) => {
    const value = c[key];
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${where}: ${key} must be a positive integer`);
    return value;
  };
  if (c.model_type !== "gpt2") throw new Error(`${where}: model_type must be "gpt2"`);
  if (c.activation_function !== void 0 && c.activation_function !== "gelu_new") {
    throw new Error(`${where}: activation_function ${String(c.activation_function)} is not supported (gelu_new only)`);
  }
  if (c.n_inner !== void 0 && c.n_inner !== null) throw new Error(`${where}: n_inner must be null (4 * n_embd)`);
  return {
    vocabSize: int("vocab_size"),
    nPositions: int("n_positions"),
    nEmbd: int("n_embd"),
    nLayer: int("n_layer"),
    nHead: int("n_head"),
    layerNormEpsilon: typeof c.layer_norm_epsilon === "number" ? c.layer_norm_epsilon : 1e-5
  };
}
async function readJson(path) {
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${error.code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
}
async function readCheckpoint(dir) {
  const config = parseHfConfig(await readJson(join(dir, "config.json")), join(dir, "config.json"));
  const metadataPath = join(dir, "hunch-train.json");
  const metadata = await readJson(metadataPath);
  if (metadata?.format !== CHECKPOINT_FORMAT || !Array.isArray(metadata.vocabulary)) {
    throw new Error(`${metadataPath}: not a Hunch checkpoint`);
  }
  const vocabulary = new Vocabulary(metadata.vocabulary, metadata.merges ?? []);
  if (vocabulary.size !== config.vocabSize) {
    throw new Error(`${metadataPath}: vocabulary has ${vocabulary.size} tokens but config.json says vocab_size ${config.vocabSize}`);
  }
  const tokenizerPath = join(dir, "tokenizer.json");
  const tokenizer = existsSync(tokenizerPath) ? await readJson(tokenizerPath) : void 0;
  let bytes;
  try {
    bytes = await readFile(join(dir, "model.safetensors"));
  } catch (error) {
    throw new Error(`cannot read ${join(dir, "model.safetensors")}: ${error.code ?? String(error)}`);
  }
  const { tensors } = decodeSafetensors(bytes);
  checkWeights(config, tensors);
  return { config, weights: tensors, metadata, safetensors: bytes, ...tokenizer === void 0 ? {} : { tokenizer } };
}
function checkWeights(config, weights) {
  for (const [name, shape] of parameterShapes(config)) {
    const tensor3 = weights.get(name);
    if (!tensor3) throw new Error(`checkpoint is missing tensor ${name}`);
    if (tensor3.shape.join(",") !== shape.join(",")) {
      throw new Error(`checkpoint tensor ${name} has shape [${tensor3.shape.join(", ")}], expected [${shape.join(", ")}]`);
    }
    if (!tensor3.data.every(Number.isFinite)) throw new Error(`checkpoint tensor ${name} holds non-finite values`);
  }
}

// packages/trainer/src/next-item/heads.ts
var ATTR_INDEX = "hunch.attr.index";
var ATTR_WEIGHT = "hunch.attr.weight";
var ATTR_LEARNED = "hunch.attr.learned";
function normalizeRows(x) {
  return x.div(x.square().sum(-1, true).add(1e-12).sqrt());
}
function nextItemShapes(config, heads) {
  const shapes = parameterShapes(config);
  if (heads.itemBias) shapes.push([ITEM_BIAS, [config.vocabSize]]);
  if (heads.repeat) shapes.push([REPEAT_WEIGHT, [config.nEmbd]], [REPEAT_BIAS, [1]]);
  if (heads.cosineScale) shapes.push([COSINE_SCALE, [1]]);
  if (heads.attributes) {
    const { count, perItem } = heads.attributes;
    const V = config.vocabSize;
    shapes.push([ATTR_TABLE, [count, config.nEmbd]]);
    if (heads.itemBias) shapes.push([ATTR_BIAS, [count]]);
    shapes.push([ATTR_INDEX, [V * perItem]], [ATTR_WEIGHT, [V * perItem]], [ATTR_LEARNED, [V]]);
  }
  return shapes;
}
function composedItemBias(weights) {
  const bias = weights.get(ITEM_BIAS);
  const attrBias = weights.get(ATTR_BIAS);
  if (!bias || !attrBias) return bias?.data;
  const V = bias.data.length;
  const index = weights.get(ATTR_INDEX).data;
  const weight = weights.get(ATTR_WEIGHT).data;
  const learned = weights.get(ATTR_LEARNED).data;
  const K = index.length / V;
  return Float32Array.from({ length: V }, (_, c) => {
    let b = learned[c] ? bias.data[c] : 0;
    for (let j = 0; j < K; j++) b += weight[c * K + j] * attrBias.data[index[c * K + j]];
    return b;
  });
}
function composedItemTable(weights) {
  const wte = weights.get(ITEM_TABLE);
  if (!wte) throw new Error(`missing tensor ${ITEM_TABLE}`);
  const table = weights.get(ATTR_TABLE);
  if (!table) return wte.data;
  const [V, D] = wte.shape;
  const index = weights.get(ATTR_INDEX).data;
  const weight = weights.get(ATTR_WEIGHT).data;
  const learned = weights.get(ATTR_LEARNED).data;
  const K = index.length / V;
  const out = new Float32Array(V * D);
  for (let c = 0; c < V; c++) {
    const row = c * D;
    if (learned[c]) for (let d = 0; d < D; d++) out[row + d] = wte.data[row + d];
    for (let j = 0; j < K; j++) {
      const w = weight[c * K + j];
      if (w === 0) continue;
      const a = index[c * K + j] * D;
      for (let d = 0; d < D; d++) out[row + d] = out[row + d] + w * table.data[a + d];
    }
  }
  return out;
}

// packages/trainer/src/next-item/checkpoint.ts
function headsFromTensors(weights) {
  const cosineScale = weights.get(COSINE_SCALE)?.data[0];
  return { itemBias: weights.has(ITEM_BIAS), repeat: weights.has(REPEAT_WEIGHT), ...cosineScale ? { cosineScale } : {} };
}
async function readNextItemCheckpoint(dir) {
  const { config, weights, metadata } = await readCheckpoint(dir);
  const recorded = metadata.nextItem?.heads;
  const heads = recorded ?? headsFromTensors(weights);
  const expected = nextItemShapes(config, heads);
  for (const [name, shape] of expected) {
    const tensor3 = weights.get(name);
    if (!tensor3) throw new Error(`${dir}: checkpoint is missing tensor ${name}`);
    if (tensor3.shape.join(",") !== shape.join(",")) {
      throw new Error(`${dir}: checkpoint tensor ${name} has shape [${tensor3.shape.join(", ")}], expected [${shape.join(", ")}]`);
    }
    if (!tensor3.data.every(Number.isFinite)) throw new Error(`${dir}: checkpoint tensor ${name} holds non-finite values`);
  }
  const known = new Set(expected.map(([name]) => name));
  const unknown = [...weights.keys()].filter((name) => !known.has(name));
  if (unknown.length) throw new Error(`${dir}: checkpoint has tensors this version cannot score with: ${unknown.join(", ")}`);
  const vocabulary = new Vocabulary(metadata.vocabulary).tokens;
  const isItem = Uint8Array.from(vocabulary, (token) => isItemToken(token) ? 1 : 0);
  return { config, heads, weights, vocabulary, isItem };
}

// packages/trainer/src/next-item/scorer.ts
import * as tf2 from "@tensorflow/tfjs";

// packages/trainer/src/eval/ranking.ts
function tieBreakRanks(popularity, rawIds) {
  if (popularity.length !== rawIds.length) {
    throw new Error(`tieBreakRanks: ${popularity.length} popularity counts for ${rawIds.length} items`);
  }
  const order = Array.from({ length: rawIds.length }, (_, i) => i);
  order.sort((a, b) => popularity[b] - popularity[a] || compareRawIds(rawIds[a], rawIds[b]));
  const ranks = new Int32Array(order.length);
  order.forEach((item, position) => ranks[item] = position);
  return ranks;
}
var Ranker = class {
  /** @param tieRank from tieBreakRanks: lower wins a tie */
  constructor(tieRank) {
    this.tieRank = tieRank;
    this.stamp = new Int32Array(tieRank.length);
  }
  tieRank;
  /** Marks excluded items: stamp[item] === currentStamp means "excluded in this call". */
  stamp;
  currentStamp = 0;
  get numItems() {
    return this.tieRank.length;
  }
  /**
   * 1-based rank of `target`: 1 + the items that score strictly higher + the items that
   * tie with it and win the tie-break, not counting items in `exclude` (except the target
   * itself, which is never excluded). Throws when the target's score is NaN.
   */
  rank(scores, target, exclude) {
    this.checkLength(scores);
    const tie = this.tieRank;
    const t = scores[target];
    if (Number.isNaN(t)) throw new Error(`Ranker: the target item ${target} has a NaN score`);
    const tt = tie[target];
    const n2 = scores.length;
    let above = 0;
    for (let j = 0; j < n2; j++) {
      const s = scores[j];
      if (s > t || s === t && tie[j] < tt) above++;
    }
    if (exclude && exclude.length > 0) {
      const mark = this.nextStamp();
      for (let i = 0; i < exclude.length; i++) {
        const j = exclude[i];
        if (j === target || this.stamp[j] === mark) continue;
        this.stamp[j] = mark;
        const s = scores[j];
        if (s > t || s === t && tie[j] < tt) above--;
      }
    }
    return above + 1;
  }
  /**
   * The best `k` items, best first, skipping items in `exclude` (fewer when fewer items
   * are left; NaN-scored items never appear). One pass with a small sorted buffer.
   */
  topK(scores, k, exclude) {
    this.checkLength(scores);
    const tie = this.tieRank;
    const mark = this.nextStamp();
    if (exclude) for (let i = 0; i < exclude.length; i++) this.stamp[exclude[i]] = mark;
    const items = new Int32Array(k);
    const best = new Float64Array(k);
    const bestTie = new Int32Array(k);
    let count = 0;
    let worst = -Infinity;
    let worstTie = 2 ** 31 - 1;
    const n2 = scores.length;
    for (let j = 0; j < n2; j++) {
      const s = scores[j];
      if (count === k) {
        if (!(s > worst || s === worst && tie[j] < worstTie)) continue;
      } else if (Number.isNaN(s)) continue;
      if (this.stamp[j] === mark) continue;
      let p = count < k ? count++ : k - 1;
      const tj = tie[j];
      while (p > 0 && (s > best[p - 1] || s === best[p - 1] && tj < bestTie[p - 1])) {
        items[p] = items[p - 1];
        best[p] = best[p - 1];
        bestTie[p] = bestTie[p - 1];
        p--;
      }
      items[p] = j;
      best[p] = s;
      bestTie[p] = tj;
      if (count === k) {
        worst = best[k - 1];
        worstTie = bestTie[k - 1];
      }
    }
    return count === k ? items : items.slice(0, count);
  }
  nextStamp() {
    if (this.currentStamp === 2 ** 31 - 1) {
      this.stamp.fill(0);
      this.currentStamp = 0;
    }
    return ++this.currentStamp;
  }
  checkLength(scores) {
    if (scores.length !== this.tieRank.length) {
      throw new Error(`Ranker: ${scores.length} scores for ${this.tieRank.length} items`);
    }
  }
};

// packages/trainer/src/eval/metrics.ts
var DEFAULT_KS = [5, 10, 20];
var MetricAccumulator = class {
  constructor(ks = DEFAULT_KS) {
    this.ks = ks;
    for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new Error(`MetricAccumulator: bad K ${k}`);
    this.hits = new Float64Array(ks.length);
    this.reciprocal = new Float64Array(ks.length);
    this.gain = new Float64Array(ks.length);
  }
  ks;
  hits;
  reciprocal;
  gain;
  examples = 0;
  /** Adds one example whose target has 1-based `rank`. */
  add(rank) {
    if (!(rank >= 1)) throw new Error(`MetricAccumulator: bad rank ${rank}`);
    this.examples++;
    for (let i = 0; i < this.ks.length; i++) {
      if (rank > this.ks[i]) continue;
      this.hits[i] += 1;
      this.reciprocal[i] += 1 / rank;
      this.gain[i] += 1 / Math.log2(rank + 1);
    }
  }
  /** Adds one example whose target cannot be ranked (unknown to training): a miss at every K. */
  addMiss() {
    this.examples++;
  }
  get count() {
    return this.examples;
  }
  /** `P@K`, `HR@K` (the same number), `MRR@K`, `NDCG@K` for every K; all 0 with no examples. */
  result() {
    const n2 = Math.max(this.examples, 1);
    const metrics = {};
    this.ks.forEach((k, i) => {
      metrics[`P@${k}`] = this.hits[i] / n2;
      metrics[`HR@${k}`] = this.hits[i] / n2;
      metrics[`MRR@${k}`] = this.reciprocal[i] / n2;
      metrics[`NDCG@${k}`] = this.gain[i] / n2;
    });
    return metrics;
  }
  /** HR@k, MRR@k and NDCG@k for one of the accumulator's Ks; NaN with no examples (nothing was measured). */
  at(k) {
    const i = this.ks.indexOf(k);
    if (i < 0) throw new Error(`MetricAccumulator: K ${k} is not one of ${this.ks.join(", ")}`);
    const n2 = this.examples;
    return { hit: n2 ? this.hits[i] / n2 : NaN, mrr: n2 ? this.reciprocal[i] / n2 : NaN, ndcg: n2 ? this.gain[i] / n2 : NaN, examples: n2 };
  }
};

// packages/trainer/src/next-item/scorer.ts
var NextItemScorer = class {
  constructor(config, weights, isItem) {
    this.config = config;
    this.isItem = isItem;
    for (const [name, t] of weights) this.tensors.set(name, tf2.tensor(t.data, t.shape, "float32"));
    if (weights.has(ATTR_TABLE)) {
      this.tensors.get(ITEM_TABLE).dispose();
      this.tensors.set(ITEM_TABLE, tf2.tensor(composedItemTable(weights), weights.get(ITEM_TABLE).shape, "float32"));
      const bias = composedItemBias(weights);
      if (bias) {
        this.tensors.get(ITEM_BIAS).dispose();
        this.tensors.set(ITEM_BIAS, tf2.tensor1d(bias));
      }
    }
    const scale = weights.get(COSINE_SCALE)?.data[0];
    if (scale) {
      const raw = this.tensors.get(ITEM_TABLE);
      this.tensors.set(ITEM_TABLE, tf2.tidy(() => normalizeRows(raw)));
      raw.dispose();
      this.cosineScale = scale;
    }
    const wte = this.tensors.get(ITEM_TABLE);
    this.wteT = tf2.transpose(wte);
    this.candidateBias = tf2.tensor2d(Float32Array.from(isItem, (x) => x ? 0 : -1e9), [1, config.vocabSize]);
  }
  config;
  isItem;
  tensors = /* @__PURE__ */ new Map();
  wteT;
  /** 0 for candidate tokens, -1e9 for the rest (specials, non-items). */
  candidateBias;
  /** τ of cosine scoring; 0 for dot-product scoring. */
  cosineScale = 0;
  /**
   * Scores [n, V] of the next token after each prefix (token ids, [BOS] first; the last
   * nPositions tokens are used). Non-candidates get about -1e9.
   */
  scorePrefixes(prefixes) {
    const P = this.config.nPositions;
    const rows = prefixes.map((p) => Array.from(p).slice(-P));
    const scores = this.scoreAt(rows, rows.map((r) => [r.length - 1]));
    try {
      return scores.dataSync();
    } finally {
      scores.dispose();
    }
  }
  /**
   * Scores [sum of positions, V] (as a tensor) at chosen input positions of each row:
   * the score row for (row r, position t) predicts row r's token t + 1.
   */
  scoreAt(rows, positions) {
    return tf2.tidy(() => {
      const D = this.config.nEmbd;
      const V = this.config.vocabSize;
      const p = (name) => this.tensors.get(name);
      const { h, T } = this.hidden(rows);
      const pick = [];
      const bonusIdx = [];
      const bonusRow = [];
      positions.forEach((ts, b) => {
        for (const t of ts) {
          const row = pick.length;
          pick.push(b * T + t);
          const seen = /* @__PURE__ */ new Set();
          for (let s = 0; s <= t; s++) {
            const token = rows[b][s];
            if (this.isItem[token] && !seen.has(token)) {
              seen.add(token);
              bonusIdx.push(row, token);
              bonusRow.push(row);
            }
          }
        }
      });
      const hp = tf2.gather(h, tf2.tensor1d(pick, "int32"));
      const M = pick.length;
      let scores = tf2.matMul(tf2.concat([this.query(hp), tf2.ones([M, 1])], 1), this.augmentedTable());
      if (this.tensors.has(REPEAT_WEIGHT) && bonusRow.length > 0) {
        const bonus = tf2.matMul(hp, p(REPEAT_WEIGHT).reshape([D, 1])).add(p(REPEAT_BIAS)).reshape([M]);
        const values = tf2.gather(bonus, tf2.tensor1d(bonusRow, "int32"));
        scores = scores.add(tf2.scatterND(tf2.tensor2d(bonusIdx, [bonusRow.length, 2], "int32"), values, [M, V]));
      }
      return scores;
    });
  }
  /**
   * Ranks (0 = best) of `targets` among all candidates, for positions of rows as in
   * scoreAt. Only "how many score above the target" is computed on the [M, V] block; the
   * repeat bonus of the few prefix items is corrected for in JS.
   */
  rankTargets(rows, positions, targets, excludeSeen = false) {
    const hasRepeat = this.tensors.has(REPEAT_WEIGHT);
    return tf2.tidy(() => {
      const D = this.config.nEmbd;
      const p = (name) => this.tensors.get(name);
      const { h, T } = this.hidden(rows);
      const pick = [];
      const prefixes = [];
      positions.forEach((ts, b) => {
        for (const t of ts) {
          pick.push(b * T + t);
          const seen = /* @__PURE__ */ new Set();
          for (let s = 0; s <= t; s++) if (this.isItem[rows[b][s]]) seen.add(rows[b][s]);
          prefixes.push([...seen]);
        }
      });
      const M = pick.length;
      const hp = tf2.gather(h, tf2.tensor1d(pick, "int32"));
      const base = tf2.matMul(tf2.concat([this.query(hp), tf2.ones([M, 1])], 1), this.augmentedTable());
      const bonus = hasRepeat ? tf2.matMul(hp, p(REPEAT_WEIGHT).reshape([D, 1])).add(p(REPEAT_BIAS)).dataSync() : new Float32Array(M);
      const pairs = [];
      targets.forEach((y, m) => pairs.push(m, y));
      prefixes.forEach((items, m) => items.forEach((c) => pairs.push(m, c)));
      const picked = tf2.gatherND(base, tf2.tensor2d(pairs, [pairs.length / 2, 2], "int32")).dataSync();
      const targetScore = new Float32Array(M);
      targets.forEach((y, m) => targetScore[m] = Math.fround(picked[m] + (hasRepeat && prefixes[m].includes(y) ? bonus[m] : 0)));
      const above = tf2.step(base.sub(tf2.tensor2d(targetScore, [M, 1]))).sum(1).dataSync();
      const ranks = Int32Array.from(above);
      if (hasRepeat || excludeSeen) {
        let o = M;
        prefixes.forEach((items, m) => {
          for (let j = 0; j < items.length; j++) {
            const s = picked[o++];
            const counts = items[j] !== targets[m] && !excludeSeen;
            ranks[m] = ranks[m] - (s > targetScore[m] ? 1 : 0) + (counts && Math.fround(s + bonus[m]) > targetScore[m] ? 1 : 0);
          }
        });
      }
      return ranks;
    });
  }
  /** Final hidden states [B * T, D] of right-padded rows (call inside tf.tidy), and the padded length T. */
  hidden(rows) {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(B * T);
    rows.forEach((r, b) => ids.set(r, b * T));
    const p = (name) => this.tensors.get(name);
    return { h: transformer(p, this.config, tf2.gather(p(ITEM_TABLE), tf2.tensor1d(ids, "int32")), B, T), T };
  }
  /** The hidden states as they meet the item table: as is, or τ-scaled unit vectors. */
  query(hp) {
    return this.cosineScale ? normalizeRows(hp).mul(this.cosineScale) : hp;
  }
  augmentedCache;
  /** [wteᵀ; lm_head.bias (or 0) - 1e9 on non-candidates], [D + 1, V]. */
  augmentedTable() {
    if (!this.augmentedCache) {
      const V = this.config.vocabSize;
      const bias = this.tensors.get(ITEM_BIAS);
      const row = bias ? bias.reshape([1, V]).add(this.candidateBias) : this.candidateBias;
      this.augmentedCache = tf2.keep(tf2.concat([this.wteT, row], 0));
    }
    return this.augmentedCache;
  }
  /**
   * Full-ranking metrics at K (eval/metrics.ts) of next-item prediction over sessions
   * (token ids): every position t >= minPosition with a candidate target is an example.
   * For [BOS] + items, minPosition 1 is the SR-GNN protocol (prefixes of >= 1 item); for
   * bare item sequences, 0. Positions past the context use the last nPositions tokens.
   */
  evaluate(sessions, options = {}) {
    const k = options.k ?? 20;
    const minPosition = options.minPosition ?? 1;
    const batchRows = options.batchRows ?? 512;
    const P = this.config.nPositions;
    const units = [];
    for (const [sequence, s] of sessions.entries()) {
      const seq = Array.from(s);
      const head = seq.slice(0, P);
      const positions = [];
      const targets = [];
      const from = options.lastOnly ? Math.max(minPosition, seq.length - 2) : minPosition;
      for (let t = from; t < Math.min(seq.length - 1, P); t++) {
        if (this.isItem[seq[t + 1]]) {
          positions.push(t);
          targets.push(seq[t + 1]);
        }
      }
      if (positions.length) units.push({ row: head, positions, targets, sequence });
      for (let t = Math.max(P, from); t < seq.length - 1; t++) {
        if (this.isItem[seq[t + 1]]) units.push({ row: seq.slice(t + 1 - P, t + 1), positions: [P - 1], targets: [seq[t + 1]], sequence });
      }
    }
    units.sort((a, b) => a.row.length - b.row.length);
    const metrics = new MetricAccumulator([k]);
    let i = 0;
    while (i < units.length) {
      const chunk = [];
      let count = 0;
      while (i < units.length && count < batchRows) {
        chunk.push(units[i]);
        count += units[i].positions.length;
        i++;
      }
      const targets = chunk.flatMap((u) => u.targets);
      const ranks = this.rankTargets(chunk.map((u) => u.row), chunk.map((u) => u.positions), targets, options.excludeSeen);
      for (const rank of ranks) metrics.add(rank + 1);
      if (options.onRank) {
        let r = 0;
        for (const unit of chunk) for (let j = 0; j < unit.targets.length; j++) options.onRank(unit.sequence, ranks[r++] + 1);
      }
    }
    return metrics.at(k);
  }
  dispose() {
    tf2.dispose([...this.tensors.values(), this.wteT, this.candidateBias, ...this.augmentedCache ? [this.augmentedCache] : []]);
  }
};

// packages/trainer/src/eval/baselines/score-buffers.ts
var ScoreBuffers = class {
  constructor(numItems) {
    this.numItems = numItems;
  }
  numItems;
  buffers = [];
  /** `count` zeroed arrays, valid until the next call. */
  take(count) {
    while (this.buffers.length < count) this.buffers.push(new Float32Array(this.numItems));
    const taken = this.buffers.slice(0, count);
    for (const buffer of taken) buffer.fill(0);
    return taken;
  }
};

// packages/trainer/src/eval/baselines/markov.ts
var MarkovRecommender = class {
  name = "markov";
  /** CSR transition table: successors of item a are next[start[a]..start[a+1]) with counts. */
  start;
  next;
  counts;
  buffers;
  constructor(train, numItems, options = {}) {
    const keys = [];
    for (const sequence of train) {
      for (let i = 1; i < sequence.length; i++) {
        const a = sequence[i - 1];
        const b = sequence[i];
        keys.push(a * numItems + b);
        if (options.bidirectional) keys.push(b * numItems + a);
      }
    }
    const sorted = Float64Array.from(keys).sort();
    const next = [];
    const counts = [];
    this.start = new Int32Array(numItems + 1);
    for (let i = 0; i < sorted.length; ) {
      const key = sorted[i];
      let j = i;
      while (j < sorted.length && sorted[j] === key) j++;
      const a = Math.floor(key / numItems);
      next.push(key - a * numItems);
      counts.push(j - i);
      this.start[a + 1]++;
      i = j;
    }
    for (let a = 0; a < numItems; a++) this.start[a + 1] += this.start[a];
    this.next = Int32Array.from(next);
    this.counts = Int32Array.from(counts);
    this.buffers = new ScoreBuffers(numItems);
  }
  score(prefixes) {
    const out = this.buffers.take(prefixes.length);
    prefixes.forEach((prefix, p) => {
      if (prefix.length === 0) return;
      const last = prefix[prefix.length - 1];
      const scores = out[p];
      for (let t = this.start[last]; t < this.start[last + 1]; t++) scores[this.next[t]] = this.counts[t];
    });
    return out;
  }
};

// packages/trainer/src/eval/baselines/sknn.ts
var SknnRecommender = class {
  name = "sknn";
  sampleSize;
  k;
  /** Distinct items of each training session, flat with offsets. */
  sessionStart;
  sessionItems;
  /** Inverted index: sessions containing item i are postings[postingStart[i]..), ascending. */
  postingStart;
  postings;
  buffers;
  /** Scratch, reused across prefixes. */
  seen;
  stamp = 0;
  constructor(train, numItems, options = {}) {
    this.sampleSize = options.sampleSize ?? 500;
    this.k = options.k ?? 100;
    this.seen = new Int32Array(Math.max(numItems, train.length));
    this.sessionStart = new Int32Array(train.length + 1);
    const items = [];
    const postingCount = new Int32Array(numItems + 1);
    for (let s = 0; s < train.length; s++) {
      const mark = ++this.stamp;
      for (const item of train.get(s)) {
        if (this.seen[item] === mark) continue;
        this.seen[item] = mark;
        items.push(item);
        postingCount[item + 1]++;
      }
      this.sessionStart[s + 1] = items.length;
    }
    this.sessionItems = Int32Array.from(items);
    for (let i = 0; i < numItems; i++) postingCount[i + 1] += postingCount[i];
    this.postingStart = postingCount.slice();
    this.postings = new Int32Array(items.length);
    const fill = postingCount;
    for (let s = 0; s < train.length; s++) {
      for (let p = this.sessionStart[s]; p < this.sessionStart[s + 1]; p++) {
        this.postings[fill[this.sessionItems[p]]++] = s;
      }
    }
    this.buffers = new ScoreBuffers(numItems);
  }
  score(prefixes) {
    const out = this.buffers.take(prefixes.length);
    prefixes.forEach((prefix, p) => this.scoreInto(prefix, out[p]));
    return out;
  }
  scoreInto(prefix, scores) {
    const distinct = this.distinctItems(prefix);
    if (distinct.length === 0) return;
    const { sessions, overlaps } = this.recentCandidates(distinct);
    const norm = Math.sqrt(distinct.length);
    const similarity = new Float64Array(sessions.length);
    for (let c = 0; c < sessions.length; c++) {
      const s = sessions[c];
      const size = this.sessionStart[s + 1] - this.sessionStart[s];
      similarity[c] = overlaps[c] / (norm * Math.sqrt(size));
    }
    const order = Array.from({ length: sessions.length }, (_, c) => c);
    order.sort((a, b) => similarity[b] - similarity[a] || a - b);
    for (let n2 = 0; n2 < Math.min(this.k, order.length); n2++) {
      const c = order[n2];
      const s = sessions[c];
      const sim = similarity[c];
      for (let p = this.sessionStart[s]; p < this.sessionStart[s + 1]; p++) scores[this.sessionItems[p]] += sim;
    }
  }
  distinctItems(prefix) {
    const mark = this.nextStamp();
    const distinct = [];
    for (const item of prefix) {
      if (this.seen[item] === mark) continue;
      this.seen[item] = mark;
      distinct.push(item);
    }
    return distinct;
  }
  /**
   * The `sampleSize` most recent sessions containing any of `items`, most recent first,
   * with how many of `items` each contains: a merge from the ends of the posting lists.
   */
  recentCandidates(items) {
    const cursors = items.map((item) => this.postingStart[item + 1] - 1);
    const floors = items.map((item) => this.postingStart[item]);
    const sessions = [];
    const overlaps = [];
    while (sessions.length < this.sampleSize) {
      let newest = -1;
      for (let i = 0; i < items.length; i++) {
        if (cursors[i] >= floors[i]) newest = Math.max(newest, this.postings[cursors[i]]);
      }
      if (newest < 0) break;
      let overlap = 0;
      for (let i = 0; i < items.length; i++) {
        if (cursors[i] >= floors[i] && this.postings[cursors[i]] === newest) {
          overlap++;
          cursors[i]--;
        }
      }
      sessions.push(newest);
      overlaps.push(overlap);
    }
    return { sessions, overlaps };
  }
  nextStamp() {
    if (this.stamp === 2 ** 31 - 1) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
};

// packages/trainer/src/benchmark-evaluation.ts
var ITEM_OFFSET = SPECIAL_TOKENS.length;
var BOS_ID = 1;
function toTokens(items) {
  const tokens = new Int32Array(items.length + 1);
  tokens[0] = BOS_ID;
  for (let i = 0; i < items.length; i++) tokens[i + 1] = items[i] + ITEM_OFFSET;
  return tokens;
}
function modelRecommender(scorer2, numItems) {
  const V = scorer2.config.vocabSize;
  return {
    name: "model",
    score(prefixes) {
      const scores = scorer2.scorePrefixes(prefixes.map(toTokens));
      return prefixes.map((_, row) => scores.subarray(row * V + ITEM_OFFSET, row * V + ITEM_OFFSET + numItems));
    }
  };
}

// packages/trainer/src/backend.ts
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { isMainThread } from "node:worker_threads";
import * as tf4 from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

// packages/trainer/src/wasm-sharing.ts
import * as tf3 from "@tensorflow/tfjs";
var share = ({ inputs: { x }, backend }) => {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
var installed = false;
function shareWasmBuffers() {
  if (installed) return;
  const identity = tf3.getKernel("Identity", "wasm");
  const cast = tf3.getKernel("Cast", "wasm");
  if (!identity || !cast) throw new Error("the wasm backend registered no Identity or Cast kernel");
  const replace = (config, shares) => {
    const copying = config.kernelFunc;
    tf3.unregisterKernel(config.kernelName, "wasm");
    tf3.registerKernel({ ...config, kernelFunc: ((args) => shares(args) ? share(args) : copying(args)) });
  };
  replace(identity, (args) => args.inputs.x.dtype !== "string");
  replace(cast, (args) => args.inputs.x.dtype !== "string" && args.attrs?.dtype === args.inputs.x.dtype);
  installed = true;
}

// packages/trainer/src/backend.ts
var BACKEND_NAMES = ["wasm", "cpu", "tensorflow"];
var BACKEND_ENV = "HUNCH_TFJS_BACKEND";
var TFJS_NODE = "@tensorflow/tfjs-node";
function planBackend(envValue, tfjsNodeResolves) {
  const wanted = envValue?.trim().toLowerCase();
  if (wanted) {
    if (!BACKEND_NAMES.includes(wanted)) {
      throw new Error(`${BACKEND_ENV} must be one of ${BACKEND_NAMES.join(", ")}; got ${JSON.stringify(envValue)}`);
    }
    return { name: wanted, reason: `${BACKEND_ENV}=${wanted}` };
  }
  if (tfjsNodeResolves) return { name: "tensorflow", reason: `${TFJS_NODE} is installed` };
  return { name: "wasm", reason: `${TFJS_NODE} is not installed` };
}
var require2 = createRequire(import.meta.url);
function resolves(specifier) {
  try {
    require2.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
var wasmPathsSet = false;
async function startWasm() {
  if (!wasmPathsSet) setWasmPaths(`${dirname(require2.resolve("@tensorflow/tfjs-backend-wasm"))}/`);
  wasmPathsSet = true;
  if (!await tf4.setBackend("wasm")) throw new Error("the TensorFlow.js wasm backend failed to start");
  shareWasmBuffers();
}
var importTfjsNode = () => import("@tensorflow/tfjs-node");
async function startTensorflow(loadTfjsNode) {
  await loadTfjsNode();
  if (!tf4.findBackendFactory("tensorflow")) throw new Error(`${TFJS_NODE} registered its backend with another @tensorflow/tfjs-core than ours`);
  if (!await tf4.setBackend("tensorflow")) throw new Error("the tensorflow backend failed to start");
}
async function start(name, loadTfjsNode = importTfjsNode) {
  if (name === "wasm") await startWasm();
  else if (name === "tensorflow") await startTensorflow(loadTfjsNode);
  else if (!await tf4.setBackend("cpu")) throw new Error("the TensorFlow.js cpu backend failed to start");
  await tf4.ready();
}
var started = /* @__PURE__ */ new Map();
var logged;
var defaultLog;
async function startBackend(plan, loadTfjsNode = importTfjsNode) {
  try {
    await start(plan.name, loadTfjsNode);
    return plan;
  } catch (error) {
    const message = error.message.split("\n")[0];
    if (plan.reason.startsWith(BACKEND_ENV) && isMainThread) throw new Error(`${BACKEND_ENV}=${plan.name}: ${message}`);
    await start("wasm");
    return { name: "wasm", reason: `${TFJS_NODE} did not load (${message})` };
  }
}
async function useTfBackend(options = {}) {
  const plan = planBackend(process.env[BACKEND_ENV], resolves(TFJS_NODE));
  const key = `${plan.name}:${plan.reason}`;
  let choice = started.get(key);
  if (!choice) {
    choice = startBackend(plan);
    started.set(key, choice);
  }
  const chosen = await choice;
  if (tf4.getBackend() !== chosen.name) await start(chosen.name);
  const line = `tfjs backend: ${chosen.name} (${chosen.reason})`;
  const sink = options.log ?? defaultLog;
  if (sink && isMainThread && logged !== line) {
    logged = line;
    sink(line);
  }
  return chosen;
}

// ../../tmp/ens/ens.ts
var [ckpt, fmt, a1, a2, limitArg, splitArg] = process.argv.slice(2);
var input = fmt === "sessions" ? { format: "sessions", train: a1, test: a2 } : { format: "sequences", data: a1 };
var data = await loadBenchmarkData(input);
var model = await readNextItemCheckpoint(ckpt);
await useTfBackend({ log: () => {
} });
var scorer = new NextItemScorer(model.config, model.weights, model.isItem);
var rec = modelRecommender(scorer, data.items.size);
var other = process.env.OTHER === "markov" ? new MarkovRecommender(data.train, data.items.size) : new SknnRecommender(data.train, data.items.size);
var examples = splitArg === "validation" ? data.validation : data.test;
var limit = Math.min(Number(limitArg ?? 1e9), examples.targets.length);
var ranker = new Ranker(tieBreakRanks(data.popularity, data.items.rawIds));
var alphas = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1];
var betas = [0.5, 1, 2, 4, 8];
var accA = alphas.map(() => new MetricAccumulator([10, 20]));
var accB = betas.map(() => new MetricAccumulator([10, 20]));
var n = data.items.size;
var mixed = new Float32Array(n);
var masked = data.mask === "history";
var t0 = Date.now();
for (let start2 = 0; start2 < limit; start2 += 64) {
  const end = Math.min(start2 + 64, limit);
  const batch = examples.prefixes.slice(start2, end);
  const ms = batch.map((p) => p.length ? null : null);
  const known = batch.map((p) => p.length > 0);
  const kp = batch.filter((p) => p.length > 0);
  const mScores = kp.length ? (await rec.score(kp)).map((s) => s.slice()) : [];
  const oScores = kp.length ? other.score(kp).map((s) => s.slice()) : [];
  let k = 0;
  for (let b = 0; b < batch.length; b++) {
    const e = start2 + b;
    const target = examples.targets[e];
    const exclude = masked ? batch[b] : void 0;
    if (!known[b]) {
      for (const acc of [...accA, ...accB]) acc.addMiss();
      continue;
    }
    const m = mScores[k], o = oScores[k];
    k++;
    if (target === UNKNOWN_ITEM) {
      for (const acc of [...accA, ...accB]) acc.addMiss();
      continue;
    }
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (m[i] > max) max = m[i];
    let z = 0;
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = Math.exp(m[i] - max);
      z += p[i];
    }
    let os = 0, omax = 0;
    for (let i = 0; i < n; i++) {
      os += o[i];
      if (o[i] > omax) omax = o[i];
    }
    alphas.forEach((a, j) => {
      for (let i = 0; i < n; i++) mixed[i] = (1 - a) * (p[i] / z) + (os > 0 ? a * (o[i] / os) : 0);
      accA[j].add(ranker.rank(mixed, target, exclude));
    });
    betas.forEach((bt, j) => {
      for (let i = 0; i < n; i++) mixed[i] = m[i] + (omax > 0 ? bt * (o[i] / omax) : 0);
      accB[j].add(ranker.rank(mixed, target, exclude));
    });
  }
  if (start2 % 6400 === 0) console.error(`${end}/${limit} ${((Date.now() - t0) / 1e3).toFixed(0)} s`);
}
var fmtm = (acc) => {
  const r = acc.result();
  return `HR@10 ${r["HR@10"].toFixed(4)} NDCG@10 ${r["NDCG@10"].toFixed(4)} P@20 ${r["P@20"].toFixed(4)} MRR@20 ${r["MRR@20"].toFixed(4)} n ${acc.count}`;
};
alphas.forEach((a, j) => console.log(`prob-mix a=${a}: ${fmtm(accA[j])}`));
betas.forEach((b, j) => console.log(`logit+b*o/max b=${b}: ${fmtm(accB[j])}`));
scorer.dispose();
