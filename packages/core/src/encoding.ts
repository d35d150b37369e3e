/**
 * How behaviour becomes model tokens. The browser (at prediction time) and the
 * trainer (at training time) must agree token for token, so both use this file;
 * golden vectors in test/golden-encoding.json pin it down on both sides.
 *
 * Each event becomes an action token followed by what it is about:
 *   add_to_cart {item_id: "sku-1"}  -> "<add_to_cart>" "item:sku-1"
 *   search {search_term: "Red Mug"} -> "<search>" "q:red" "q:mug"
 *   page_view                       -> "<page_view>"
 * except product views, by far the most common event, which are the item token alone:
 *   view_item {item_id: "sku-1"}    -> "item:sku-1"
 * That halves the length of typical histories (and so the cost of every forward pass),
 * and makes a history of views read exactly like a research session of item ids.
 * A history is "[BOS]" followed by its events' tokens, oldest first, truncated
 * from the left to the model's context length.
 */

import type { HunchEvent } from './events.js';

/** Bumped whenever the mapping from events to token strings changes. */
export const ENCODING_VERSION = 2;

export const PAD_TOKEN = '[PAD]';
export const BOS_TOKEN = '[BOS]';
export const UNK_TOKEN = '[UNK]';
export const SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, UNK_TOKEN] as const;

/** Search words kept per search event: enough for intent, bounded for the context. */
export const MAX_SEARCH_WORDS = 4;

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

/** Lower-cased letter/digit runs of a search term, at most MAX_SEARCH_WORDS of them. */
export function searchWords(term: string): string[] {
  const words = term.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.slice(0, MAX_SEARCH_WORDS);
}

/** The token strings for one event, before they are looked up in a vocabulary. */
export function eventTokens(event: Pick<HunchEvent, 'name' | 'params'>): string[] {
  const { item_id, search_term } = event.params;
  if (event.name === 'view_item' && item_id !== undefined) return [itemToken(item_id)];
  const tokens = [actionToken(event.name)];
  if (item_id !== undefined) tokens.push(itemToken(item_id));
  if (event.name === 'search' && search_term !== undefined) {
    for (const word of searchWords(search_term)) tokens.push(searchWordToken(word));
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

  constructor(tokens: readonly string[]) {
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

/**
 * Collects the vocabulary of a body of events: special tokens, then every action,
 * then search words and items seen at least `minCount` times, each group sorted so
 * that the same events always give the same ids.
 */
export function buildVocabulary(events: Iterable<Pick<HunchEvent, 'name' | 'params'>>, minCount = 1): Vocabulary {
  const counts = new Map<string, number>();
  for (const event of events) {
    for (const token of eventTokens(event)) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  const frequent = [...counts].filter(([, count]) => count >= minCount).map(([token]) => token);
  const group = (keep: (token: string) => boolean) => frequent.filter(keep).sort();
  return new Vocabulary([
    ...SPECIAL_TOKENS,
    ...group((token) => token.startsWith('<')),
    ...group((token) => token.startsWith(SEARCH_PREFIX)),
    ...group(isItemToken),
  ]);
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
  for (const event of events) for (const token of eventTokens(event)) ids.push(vocabulary.id(token));
  return [vocabulary.id(BOS_TOKEN), ...ids.slice(Math.max(0, ids.length - (maxLength - 1)))];
}
