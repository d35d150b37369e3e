/**
 * Hunch vocabularies as Hugging Face `tokenizer.json`, so other tools tokenize exactly as
 * the SDK does. A Hunch vocabulary: search text goes through a byte-level BPE model (its
 * pieces are the vocabulary's `q:` tokens, same ids), and every other Hunch token
 * (specials, actions, items) is an added token matched before normalisation. A vocabulary
 * extended from a GPT-2: that GPT-2's own tokenizer.json with the behaviour tokens as
 * added tokens. Either way the normaliser is core's normalizeSearch (NFKC, lower case,
 * non-letters/digits to one space, trimmed), which the SDK applies to search text.
 */
import { END_OF_TEXT_TOKEN, SPECIAL_TOKENS, UNK_TOKEN, byteAlphabet, type Merge, type Vocabulary } from '@hunch/core';

const SEARCH_PREFIX = 'q:';

const HUNCH_NORMALIZER = {
  type: 'Sequence',
  normalizers: [
    { type: 'NFKC' },
    { type: 'Lowercase' },
    { type: 'Replace', pattern: { Regex: '[^\\p{L}\\p{N}]+' }, content: ' ' },
    { type: 'Strip', strip_left: true, strip_right: true },
  ],
};

const addedToken = (id: number, content: string, special: boolean) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special,
});

export function tokenizerJson(vocabulary: Vocabulary): unknown {
  const specials = new Set<string>(SPECIAL_TOKENS);
  const added: unknown[] = [];
  const bpeVocab: Record<string, number> = {};
  vocabulary.tokens.forEach((token, id) => {
    if (token.startsWith(SEARCH_PREFIX)) {
      bpeVocab[token.slice(SEARCH_PREFIX.length)] = id;
    } else {
      added.push(addedToken(id, token, specials.has(token)));
    }
  });
  // A BPE model needs its byte alphabet; a vocabulary without searches has none, so the
  // text model is left empty and any text maps to [UNK].
  const complete = byteAlphabet().every((symbol) => symbol in bpeVocab);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: HUNCH_NORMALIZER,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: complete ? bpeVocab : {},
      merges: complete ? vocabulary.merges.map(([a, b]) => [a, b]) : [],
    },
  };
}

interface HfTokenizerJson {
  added_tokens?: Array<{ id: number; content: string }>;
  pre_tokenizer?: { type?: string; pretokenizers?: Array<{ type?: string }> } | null;
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
}

/**
 * The tokens (by id) and merges of a byte-level BPE tokenizer.json (GPT-2's), checking
 * that it is one Hunch's BPE (core bpe.ts) reproduces: BPE model, ByteLevel pre-tokenizer,
 * every id used once, and <|endoftext|> present.
 */
export function readBpeTokenizer(json: unknown, where: string): { tokens: string[]; merges: Merge[] } {
  const t = (json ?? {}) as HfTokenizerJson;
  if (t.model?.type !== 'BPE' || typeof t.model.vocab !== 'object' || !Array.isArray(t.model.merges)) {
    throw new Error(`${where}: not a BPE tokenizer.json`);
  }
  const pre = t.pre_tokenizer;
  const byteLevel = pre?.type === 'ByteLevel' || (pre?.type === 'Sequence' && (pre.pretokenizers ?? []).some((p) => p.type === 'ByteLevel'));
  if (!byteLevel) throw new Error(`${where}: only byte-level BPE tokenizers (GPT-2's) are supported`);
  const byId = new Map<number, string>();
  const put = (id: number, token: string) => {
    const other = byId.get(id);
    if (other !== undefined && other !== token) throw new Error(`${where}: id ${id} is both ${JSON.stringify(other)} and ${JSON.stringify(token)}`);
    byId.set(id, token);
  };
  for (const [token, id] of Object.entries(t.model.vocab)) put(id, token);
  for (const { id, content } of t.added_tokens ?? []) put(id, content);
  const tokens = Array.from({ length: byId.size }, (_, id) => {
    const token = byId.get(id);
    if (token === undefined) throw new Error(`${where}: token ids are not 0..${byId.size - 1}`);
    return token;
  });
  if (!tokens.includes(END_OF_TEXT_TOKEN)) throw new Error(`${where}: no ${END_OF_TEXT_TOKEN} token`);
  // Merges are "a b" strings in older files, [a, b] pairs in newer ones.
  const merges = t.model.merges.map((m): Merge => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (pair.length !== 2) throw new Error(`${where}: bad merge ${JSON.stringify(m)}`);
    return [pair[0]!, pair[1]!];
  });
  return { tokens, merges };
}

/**
 * A GPT-2's tokenizer.json extended with a vocabulary's appended tokens (ids from
 * `baseSize` on) as added tokens, and Hunch's search normaliser, so it tokenizes a
 * history exactly as the SDK does. Everything else (BPE model, pre-tokenizer, decoder)
 * is the base's.
 */
export function extendTokenizerJson(base: unknown, vocabulary: Vocabulary, baseSize: number): unknown {
  const t = base as HfTokenizerJson & Record<string, unknown>;
  const appended = vocabulary.tokens.slice(baseSize).map((token, i) => addedToken(baseSize + i, token, token === UNK_TOKEN));
  // Added tokens are matched before normalisation: the new normaliser would mangle "<|endoftext|>".
  const kept = (t.added_tokens ?? []).map((token) => ({ ...token, normalized: false }));
  return { ...t, truncation: null, padding: null, added_tokens: [...kept, ...appended], normalizer: HUNCH_NORMALIZER };
}

export function tokenizerConfig(maxLength: number, vocabulary: Vocabulary): unknown {
  const { tokens } = vocabulary;
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: tokens[vocabulary.bos],
    eos_token: tokens[vocabulary.bos],
    unk_token: tokens[vocabulary.unk],
    pad_token: tokens[vocabulary.pad],
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
  };
}
