/**
 * The "new items" (cold-start) protocol of issue 21 part 2, on a leave-one-out dataset with
 * an item -> attribute-ids file (Amazon Beauty and `Beauty_item2attributes.json`):
 *
 * - items whose numeric raw id is divisible by `every` (10) are "new": training never sees them;
 * - every interaction with a new item is removed from what the model trains and validates on
 *   (each user's items but the last two, new items left out; the validation target is the
 *   second-to-last item when it is not new);
 * - the test is the usual leave-one-out last item, ranked among all items, history masked,
 *   the history keeping the new items the user saw (a model knows them by attributes only);
 * - metrics are reported apart for test targets that are new and for the rest.
 *
 * The attribute-only baseline (AttributeRecommender) ranks items by how well their
 * attributes match those of the user's history; it knows nothing learned about item ids.
 */
import { readFile } from 'node:fs/promises';
import type { ItemIndex } from '../data/item-index.js';
import { SequenceSetBuilder, countItems, type SequenceSet } from '../data/sequence-set.js';
import { evaluateRecommender, type Recommender } from './metrics.js';
import type { Examples } from './protocols.js';

/** Each item's attribute ids, densely numbered 0..count-1 (items without attributes: none). */
export interface ItemAttributes {
  /** Per dense item index: its dense attribute ids, without duplicates. */
  byItem: Int32Array[];
  /** How many distinct attribute ids there are. */
  count: number;
  /** Items of the index that the file lists. */
  covered: number;
}

/**
 * Attributes from a JSON object `{ "<raw item id>": [attribute id, ...] }`, for the items of
 * `items` (others in the file are ignored). Attribute ids are numbered in ascending order.
 */
export function parseItemAttributes(json: unknown, items: ItemIndex): ItemAttributes {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('item attributes: expected a JSON object of item id -> attribute ids');
  const raw = json as Record<string, unknown>;
  const lists: Array<Array<string | number>> = items.rawIds.map((id) => {
    const value = raw[id];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((a) => typeof a === 'number' || typeof a === 'string')) {
      throw new Error(`item attributes: item ${id} must map to a list of attribute ids`);
    }
    return value as Array<string | number>;
  });
  const keys = [...new Set(lists.flat().map(String))].sort((a, b) => (Number(a) - Number(b)) || (a < b ? -1 : a > b ? 1 : 0));
  const dense = new Map(keys.map((k, i) => [k, i]));
  return {
    byItem: lists.map((list) => Int32Array.from(new Set(list.map((a) => dense.get(String(a))!)))),
    count: keys.length,
    covered: items.rawIds.filter((id) => raw[id] !== undefined).length,
  };
}

export async function readItemAttributes(path: string, items: ItemIndex): Promise<ItemAttributes> {
  return parseItemAttributes(JSON.parse(await readFile(path, 'utf8')) as unknown, items);
}

/** 1 for the "new" items: numeric raw id divisible by `every`. */
export function newItemsByRawId(rawIds: readonly string[], every = 10): Uint8Array {
  return Uint8Array.from(rawIds, (id) => (/^\d+$/.test(id) && Number(id) % every === 0 ? 1 : 0));
}

export interface ColdItemSplit {
  /** 1 for new items (never in train or validation). */
  isNew: Uint8Array;
  /** Per kept user: the items but the last two, new items left out (may be empty). */
  train: SequenceSet;
  /** Per kept user whose second-to-last item is not new: prefix = train row, target = that item. */
  validation: Examples;
  /** Per kept user: prefix = every item but the last (new ones included), target = the last. */
  test: Examples;
  /** Occurrences of each item in train (0 for every new item). */
  popularity: Int32Array;
  /** Users with fewer than 3 items, left out (as leave-one-out does). */
  tooShort: number;
}

/** The split above, from each user's dense items (ItemIndex order), oldest first. */
export function coldItemSplit(sequences: SequenceSet, isNew: Uint8Array): ColdItemSplit {
  const train = new SequenceSetBuilder();
  const validation: Examples = { prefixes: [], targets: new Int32Array(0), sources: new Int32Array(0) };
  const valTargets: number[] = [];
  const valSources: number[] = [];
  const testPrefixes: Int32Array[] = [];
  const testTargets: number[] = [];
  const testSources: number[] = [];
  let tooShort = 0;
  for (let u = 0; u < sequences.length; u++) {
    const items = sequences.get(u);
    const n = items.length;
    if (n < 3) {
      tooShort++;
      continue;
    }
    const known = items.subarray(0, n - 2).filter((item) => !isNew[item]);
    train.push(known);
    if (!isNew[items[n - 2]!]) {
      validation.prefixes.push(known);
      valTargets.push(items[n - 2]!);
      valSources.push(u);
    }
    testPrefixes.push(items.subarray(0, n - 1));
    testTargets.push(items[n - 1]!);
    testSources.push(u);
  }
  validation.targets = Int32Array.from(valTargets);
  validation.sources = Int32Array.from(valSources);
  const built = train.build();
  return {
    isNew,
    train: built,
    validation,
    test: { prefixes: testPrefixes, targets: Int32Array.from(testTargets), sources: Int32Array.from(testSources) },
    popularity: countItems(built, isNew.length),
    tooShort,
  };
}

/** The examples whose target satisfies `keep`, in order. */
export function selectExamples(examples: Examples, keep: (target: number) => boolean): Examples {
  const picked: number[] = [];
  examples.targets.forEach((target, e) => keep(target) && picked.push(e));
  return {
    prefixes: picked.map((e) => examples.prefixes[e]!),
    targets: Int32Array.from(picked, (e) => examples.targets[e]!),
    sources: Int32Array.from(picked, (e) => examples.sources[e]!),
  };
}

/**
 * Attribute-only baseline: the user's profile is the attribute weights of the prefix items
 * (recent items count more: weight `decay`^age, each item's weight spread over its
 * attributes), each attribute weighted by its inverse document frequency; an item scores
 * the sum of the profile over its attributes, over sqrt(its attribute count).
 */
export class AttributeRecommender implements Recommender {
  readonly name = 'attributes';
  private readonly idf: Float64Array;
  private readonly profile: Float64Array;

  constructor(
    private readonly attributes: ItemAttributes,
    private readonly decay = 0.8,
  ) {
    const df = new Float64Array(attributes.count);
    for (const list of attributes.byItem) for (const a of list) df[a]!++;
    const n = attributes.byItem.length;
    this.idf = Float64Array.from(df, (d) => Math.log((n + 1) / (d + 1)) + 1e-3);
    this.profile = new Float64Array(attributes.count);
  }

  score(prefixes: readonly Int32Array[]): Float32Array[] {
    const { byItem } = this.attributes;
    return prefixes.map((prefix) => {
      const profile = this.profile.fill(0);
      let w = 1;
      for (let i = prefix.length - 1; i >= 0; i--, w *= this.decay) {
        const list = byItem[prefix[i]!]!;
        for (const a of list) profile[a]! += (w / list.length) * this.idf[a]!;
      }
      const scores = new Float32Array(byItem.length);
      for (let item = 0; item < byItem.length; item++) {
        const list = byItem[item]!;
        if (list.length === 0) continue;
        let s = 0;
        for (const a of list) s += profile[a]! * this.idf[a]!;
        scores[item] = s / Math.sqrt(list.length);
      }
      return scores;
    });
  }
}

/**
 * A recommender that never saw the new items (a model without attributes) given the test
 * prefixes: it gets them without the new items (the mask still uses the whole history);
 * a prefix left empty is ranked by the tie-break (popularity).
 */
export function withoutNewItems(recommender: Recommender, isNew: Uint8Array): Recommender {
  const zeros = new Float32Array(isNew.length);
  return {
    name: recommender.name,
    async score(prefixes) {
      const kept = prefixes.map((prefix) => prefix.filter((item) => !isNew[item]));
      const nonEmpty = kept.filter((prefix) => prefix.length > 0);
      const scores = nonEmpty.length ? await recommender.score(nonEmpty) : [];
      let k = 0;
      return kept.map((prefix) => (prefix.length > 0 ? scores[k++]! : zeros));
    },
  };
}

/** HR@10 / NDCG@10 (and the rest of evaluateRecommender's metrics) for new targets, known targets and all. */
export interface ColdItemMetrics {
  new: Record<string, number>;
  known: Record<string, number>;
  all: Record<string, number>;
  examples: { new: number; known: number };
}

/** Full ranking of the test targets, history masked, reported apart for new and known targets. */
export async function evaluateColdItems(
  recommender: Recommender,
  split: Pick<ColdItemSplit, 'isNew' | 'test' | 'popularity'>,
  rawIds: readonly string[],
): Promise<ColdItemMetrics> {
  const options = { popularity: split.popularity, rawIds, mask: 'history' as const };
  const newExamples = selectExamples(split.test, (t) => split.isNew[t] === 1);
  const knownExamples = selectExamples(split.test, (t) => split.isNew[t] !== 1);
  const fresh = await evaluateRecommender(recommender, newExamples, options);
  const known = await evaluateRecommender(recommender, knownExamples, options);
  const n = fresh.examples + known.examples;
  const all = Object.fromEntries(
    Object.keys(known.metrics).map((key) => [key, n ? (fresh.metrics[key]! * fresh.examples + known.metrics[key]! * known.examples) / n : 0]),
  );
  return { new: fresh.metrics, known: known.metrics, all, examples: { new: fresh.examples, known: known.examples } };
}
