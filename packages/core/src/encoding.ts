/**
 * How behaviour becomes model tokens. The browser (at prediction time) and the
 * trainer (at training time) must agree token for token, so both use this file;
 * golden vectors in test/golden-encoding.json pin it down on both sides.
 *
 * Each event becomes an action token followed by what it is about:
 *   add_to_cart {item_id: "sku-1"}  -> "<add_to_cart>" "item:sku-1"
 *   search {search_term: "Red Mug"} -> "<search>" "q:red" "q:Ġmug"
 *   page_view                       -> "<page_view>"
 *   experience_impression {...}     -> nothing (what the shop showed, not what the shopper did)
 * except product views, by far the most common event, which are the item token alone:
 *   view_item {item_id: "sku-1"}    -> "item:sku-1"
 * That halves the length of typical histories (and so the cost of every forward pass),
 * and makes a history of views read exactly like a research session of item ids.
 * Search text is normalised (NFKC, lower case, punctuation to spaces) and split into
 * byte-level BPE pieces whose merges the trainer learns from the shop's searches
 * (see bpe.ts); the vocabulary carries the merges, so browser and trainer agree.
 * A history is "[BOS]" followed by its events' tokens, oldest first, truncated
 * from the left to the model's context length.
 *
 * A vocabulary fine-tuned from a Hugging Face GPT-2 keeps all of the base model's tokens
 * (same ids) and appends the behaviour tokens: there, search pieces are the base model's
 * own BPE tokens (no "q:" prefix, the base merges), "<|endoftext|>" is the BOS and PAD
 * token, and an appended "[UNK]" stands for unknown actions and items.
 */

import { ByteLevelBPE, byteAlphabet, learnMerges, type Merge } from './bpe.js';
import { isBehaviourEvent, type HunchEvent } from './events.js';

/** Bumped whenever the mapping from events to token strings changes. */
export const ENCODING_VERSION = 3;

export const PAD_TOKEN = '[PAD]';
export const BOS_TOKEN = '[BOS]';
export const UNK_TOKEN = '[UNK]';
export const SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, UNK_TOKEN] as const;
/** GPT-2's only special token: BOS, EOS and PAD of vocabularies extended from a GPT-2. */
export const END_OF_TEXT_TOKEN = '<|endoftext|>';

/** Search text pieces kept per search event: enough for intent, bounded for the context. */
export const MAX_SEARCH_PIECES = 8;
/** BPE merges learned by default: plenty for a shop's search vocabulary, small next to its items. */
export const DEFAULT_MAX_MERGES = 1000;
/** New search merges learned per vocabulary extension (a retraining): a shop's new words, bounded. */
export const MAX_EXTENSION_MERGES = 200;

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

/**
 * The token strings for one event, with search text split by `searchPieces` and each
 * piece prefixed with `textPrefix` ("q:" in Hunch vocabularies, "" in GPT-2-based ones).
 */
export function eventTokens(
  event: Pick<HunchEvent, 'name' | 'params'>,
  searchPieces: (text: string) => string[],
  textPrefix: string = SEARCH_PREFIX,
): string[] {
  const { item_id, search_term } = event.params;
  if (!isBehaviourEvent(event.name)) return []; // an exposure is what the shop did, not the shopper
  if (event.name === 'view_item' && item_id !== undefined) return [itemToken(item_id)];
  const tokens = [actionToken(event.name)];
  if (item_id !== undefined) tokens.push(itemToken(item_id));
  if (event.name === 'search' && search_term !== undefined) {
    for (const piece of searchPieces(normalizeSearch(search_term)).slice(0, MAX_SEARCH_PIECES)) tokens.push(textPrefix + piece);
  }
  return tokens;
}

/**
 * A fixed list of token strings; a token's id is its index. Built by the trainer,
 * shipped in the model manifest, read back by the browser. Two kinds, told apart by
 * their tokens (so a manifest needs no extra field):
 * - a Hunch vocabulary starts with [PAD], [BOS], [UNK]; search pieces are "q:" tokens;
 * - a GPT-2-based vocabulary holds "<|endoftext|>" (BOS and PAD) and "[UNK]"; search
 *   pieces are the base model's tokens, unprefixed.
 */
export class Vocabulary {
  readonly tokens: readonly string[];
  /** Id of the token every history starts with. */
  readonly bos: number;
  /** Id used for padding (and GPT-2's EOS). */
  readonly pad: number;
  /** Id of unknown actions, items (and, in Hunch vocabularies, unknown text). */
  readonly unk: number;
  /** What precedes a search-text piece in its token string. */
  readonly textPrefix: string;
  private readonly ids: Map<string, number>;
  private readonly bpe: ByteLevelBPE;

  constructor(tokens: readonly string[], readonly merges: readonly Merge[] = []) {
    this.bpe = new ByteLevelBPE(merges);
    this.ids = new Map();
    tokens.forEach((token, index) => {
      if (this.ids.has(token)) throw new Error(`vocabulary lists ${JSON.stringify(token)} twice`);
      this.ids.set(token, index);
    });
    this.tokens = tokens;
    if (SPECIAL_TOKENS.every((special, index) => tokens[index] === special)) {
      [this.pad, this.bos, this.unk] = [0, 1, 2];
      this.textPrefix = SEARCH_PREFIX;
    } else if (this.ids.has(END_OF_TEXT_TOKEN) && this.ids.has(UNK_TOKEN)) {
      this.bos = this.pad = this.ids.get(END_OF_TEXT_TOKEN)!;
      this.unk = this.ids.get(UNK_TOKEN)!;
      this.textPrefix = '';
    } else {
      throw new Error(`vocabulary must start with ${SPECIAL_TOKENS.join(', ')} (or hold ${END_OF_TEXT_TOKEN} and ${UNK_TOKEN})`);
    }
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token string, or of [UNK] when the vocabulary lacks it. */
  id(token: string): number {
    return this.ids.get(token) ?? this.unk;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The token strings of one event under this vocabulary's search-text merges. */
  eventTokens(event: Pick<HunchEvent, 'name' | 'params'>): string[] {
    return eventTokens(event, (text) => this.bpe.encode(text), this.textPrefix);
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
 * What a vocabulary is built from, gathered one event at a time (so a trainer can stream
 * a large file): counts of action and item tokens, and of normalised search texts.
 */
export class VocabularyCounts {
  /** Action and item token -> occurrences. */
  readonly tokens = new Map<string, number>();
  /** Normalised search text -> occurrences. */
  readonly searches = new Map<string, number>();

  add(event: Pick<HunchEvent, 'name' | 'params'>): void {
    const { name, params } = event;
    if (name === 'search' && params.search_term !== undefined) {
      const text = normalizeSearch(params.search_term);
      this.searches.set(text, (this.searches.get(text) ?? 0) + 1);
    }
    // Search pieces are not counted: the text tokens are every BPE symbol (see build).
    for (const token of eventTokens(event, () => [])) this.tokens.set(token, (this.tokens.get(token) ?? 0) + 1);
  }

  /** Actions, then items, seen at least `minCount` times, each group sorted. */
  private frequent(minCount: number): { actions: string[]; items: string[] } {
    const kept = [...this.tokens].filter(([, count]) => count >= minCount).map(([token]) => token);
    return { actions: kept.filter((token) => token.startsWith('<')).sort(), items: kept.filter(isItemToken).sort() };
  }

  /**
   * A Hunch vocabulary: special tokens, the frequent actions, the search-text symbols of
   * BPE merges learned from the searches, the frequent items.
   */
  build(options: VocabularyOptions = {}): Vocabulary {
    const { minCount = 1, maxMerges = DEFAULT_MAX_MERGES } = options;
    const merges = learnMerges(this.searches, maxMerges);
    const { actions, items } = this.frequent(minCount);
    // Every BPE symbol, seen or not, so that any search text encodes without [UNK] and the
    // tokenizer.json is a complete BPE model; none at all when the shop has no searches.
    const textTokens = this.searches.size > 0 ? new ByteLevelBPE(merges).symbols().map(searchWordToken) : [];
    return new Vocabulary([...SPECIAL_TOKENS, ...actions, ...textTokens, ...items], merges);
  }

  /**
   * `base` (a GPT-2's tokens, or an earlier Hunch vocabulary) with every token of `base`
   * kept at its id, then [UNK] if `base` lacks it, then the new frequent actions, the new
   * search pieces and the new frequent items. New search pieces: when `base` is a Hunch
   * vocabulary with search text (its byte symbols are `q:` tokens), up to
   * MAX_EXTENSION_MERGES merges learned from these searches on top of the base's merges,
   * appended to them (lowest rank, so the base's pieces keep cutting text as before). A
   * GPT-2's text keeps its own BPE: nothing is learned for it.
   */
  extend(base: { tokens: readonly string[]; merges: readonly Merge[] }, options: Pick<VocabularyOptions, 'minCount'> = {}): Vocabulary {
    const known = new Set(base.tokens);
    const { actions, items } = this.frequent(options.minCount ?? 1);
    const hunchText = byteAlphabet().every((symbol) => known.has(searchWordToken(symbol)));
    const newMerges = hunchText ? learnMerges(this.searches, MAX_EXTENSION_MERGES, 2, base.merges) : [];
    const textTokens = newMerges.map(([a, b]) => searchWordToken(a + b));
    const added = [...new Set([...(known.has(UNK_TOKEN) ? [] : [UNK_TOKEN]), ...actions, ...textTokens, ...items])].filter((token) => !known.has(token));
    return new Vocabulary([...base.tokens, ...added], [...base.merges, ...newMerges]);
  }
}

/**
 * Collects the vocabulary of a body of events: special tokens, the actions and items seen
 * at least `minCount` times (each group sorted, so the same events give the same ids), and
 * the search-text symbols of BPE merges learned from the events' searches.
 */
export function buildVocabulary(events: Iterable<Pick<HunchEvent, 'name' | 'params'>>, options: VocabularyOptions = {}): Vocabulary {
  const counts = new VocabularyCounts();
  for (const event of events) counts.add(event);
  return counts.build(options);
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
  return [vocabulary.bos, ...ids.slice(Math.max(0, ids.length - (maxLength - 1)))];
}
