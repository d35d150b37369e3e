/**
 * How behaviour becomes model tokens. The browser (at prediction time) and the
 * trainer (at training time) must agree token for token, so both use this file;
 * golden vectors in test/golden-encoding.json pin it down on both sides.
 *
 * Each event becomes an action token followed by what it is about:
 *   add_to_cart {item_id: "sku-1"}  -> "<add_to_cart>" "item:sku-1"
 *   search {search_term: "Red Mug"} -> "<search>" "q:red" "q:Ġmug"
 *   page_view                       -> "<page_view>"
 * except product views, by far the most common event, which are the item token alone:
 *   view_item {item_id: "sku-1"}    -> "item:sku-1"
 * That halves the length of typical histories (and so the cost of every forward pass),
 * and makes a history of views read exactly like a research session of item ids.
 * Search text is normalised (NFKC, lower case, punctuation to spaces) and split into
 * byte-level BPE pieces whose merges the trainer learns from the shop's searches
 * (see bpe.ts); the vocabulary carries the merges, so browser and trainer agree.
 * A history is "[BOS]" followed by its events' tokens, oldest first, truncated
 * from the left to the model's context length.
 */

import { ByteLevelBPE, learnMerges, type Merge } from './bpe.js';
import type { HunchEvent } from './events.js';

/** Bumped whenever the mapping from events to token strings changes. */
export const ENCODING_VERSION = 3;

export const PAD_TOKEN = '[PAD]';
export const BOS_TOKEN = '[BOS]';
export const UNK_TOKEN = '[UNK]';
export const SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, UNK_TOKEN] as const;

/** Search text pieces kept per search event: enough for intent, bounded for the context. */
export const MAX_SEARCH_PIECES = 8;
/** BPE merges learned by default: plenty for a shop's search vocabulary, small next to its items. */
export const DEFAULT_MAX_MERGES = 1000;

const ITEM_PREFIX = 'item:';
const SEARCH_PREFIX = 'q:';

export const actionToken = (name: string): string => `<${name}>`;
export const itemToken = (itemId: string): string => `${ITEM_PREFIX}${itemId}`;
export const searchWordToken = (word: string): string => `${SEARCH_PREFIX}${word}`;

export function isItemToken(token: string): boolean {
  return token.startsWith(ITEM_PREFIX);
}

export function itemIdOfToken(token: string): string | undefined {
  return isItemToken(token) ? token.slice(ITEM_PREFIX.length) : undefined;
}

/** NFKC, lower case, every run of non-letters/digits one space, trimmed: "  RED mug!" -> "red mug". */
export function normalizeSearch(term: string): string {
  return term.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** The token strings for one event, with search text split by `searchPieces`. */
export function eventTokens(event: Pick<HunchEvent, 'name' | 'params'>, searchPieces: (text: string) => string[]): string[] {
  const { item_id, search_term } = event.params;
  if (event.name === 'view_item' && item_id !== undefined) return [itemToken(item_id)];
  const tokens = [actionToken(event.name)];
  if (item_id !== undefined) tokens.push(itemToken(item_id));
  if (event.name === 'search' && search_term !== undefined) {
    for (const piece of searchPieces(normalizeSearch(search_term)).slice(0, MAX_SEARCH_PIECES)) tokens.push(searchWordToken(piece));
  }
  return tokens;
}

/**
 * A fixed list of token strings; a token's id is its index. Built by the trainer,
 * shipped in the model manifest, read back by the browser.
 */
export class Vocabulary {
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly bpe: ByteLevelBPE;

  constructor(tokens: readonly string[], readonly merges: readonly Merge[] = []) {
    this.bpe = new ByteLevelBPE(merges);
    SPECIAL_TOKENS.forEach((special, index) => {
      if (tokens[index] !== special) throw new Error(`vocabulary must start with ${SPECIAL_TOKENS.join(', ')}`);
    });
    this.ids = new Map();
    tokens.forEach((token, index) => {
      if (this.ids.has(token)) throw new Error(`vocabulary lists ${JSON.stringify(token)} twice`);
      this.ids.set(token, index);
    });
    this.tokens = tokens;
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token string, or of [UNK] when the vocabulary lacks it. */
  id(token: string): number {
    return this.ids.get(token) ?? this.ids.get(UNK_TOKEN)!;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The token strings of one event under this vocabulary's search-text merges. */
  eventTokens(event: Pick<HunchEvent, 'name' | 'params'>): string[] {
    return eventTokens(event, (text) => this.bpe.encode(text));
  }

  /** Ids of all item tokens with their item ids: the candidates a recommender ranks. */
  items(): Array<{ tokenId: number; itemId: string }> {
    const items: Array<{ tokenId: number; itemId: string }> = [];
    this.tokens.forEach((token, tokenId) => {
      const itemId = itemIdOfToken(token);
      if (itemId !== undefined) items.push({ tokenId, itemId });
    });
    return items;
  }
}

export interface VocabularyOptions {
  /** Keep actions and items seen at least this often (default 1). */
  minCount?: number;
  /** Most BPE merges to learn from the search terms (default DEFAULT_MAX_MERGES). */
  maxMerges?: number;
}

/**
 * Collects the vocabulary of a body of events: special tokens, the actions and items seen
 * at least `minCount` times (each group sorted, so the same events give the same ids), and
 * the search-text symbols of BPE merges learned from the events' searches.
 */
export function buildVocabulary(events: Iterable<Pick<HunchEvent, 'name' | 'params'>>, options: VocabularyOptions = {}): Vocabulary {
  const { minCount = 1, maxMerges = DEFAULT_MAX_MERGES } = options;
  const list = Array.isArray(events) ? (events as Array<Pick<HunchEvent, 'name' | 'params'>>) : [...events];
  const searches = new Map<string, number>();
  for (const { name, params } of list) {
    if (name === 'search' && params.search_term !== undefined) {
      const text = normalizeSearch(params.search_term);
      searches.set(text, (searches.get(text) ?? 0) + 1);
    }
  }
  const merges = learnMerges(searches, maxMerges);
  const splitter = new ByteLevelBPE(merges);
  const counts = new Map<string, number>();
  for (const event of list) {
    for (const token of eventTokens(event, (text) => splitter.encode(text))) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  const frequent = [...counts].filter(([token, count]) => count >= minCount && !token.startsWith(SEARCH_PREFIX)).map(([token]) => token);
  const group = (keep: (token: string) => boolean) => frequent.filter(keep).sort();
  // Every BPE symbol, seen or not, so that any search text encodes without [UNK] and the
  // tokenizer.json is a complete BPE model; none at all when the shop has no searches.
  const textTokens = searches.size > 0 ? splitter.symbols().map(searchWordToken) : [];
  return new Vocabulary([...SPECIAL_TOKENS, ...group((token) => token.startsWith('<')), ...textTokens, ...group(isItemToken)], merges);
}

/**
 * Encodes a history (oldest event first) as token ids: [BOS] then each event's tokens,
 * keeping the most recent `maxLength` tokens (the first stays [BOS]).
 */
export function encodeHistory(
  events: Iterable<Pick<HunchEvent, 'name' | 'params'>>,
  vocabulary: Vocabulary,
  maxLength: number,
): number[] {
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error('maxLength must be an integer >= 2');
  const ids: number[] = [];
  for (const event of events) for (const token of vocabulary.eventTokens(event)) ids.push(vocabulary.id(token));
  return [vocabulary.id(BOS_TOKEN), ...ids.slice(Math.max(0, ids.length - (maxLength - 1)))];
}
