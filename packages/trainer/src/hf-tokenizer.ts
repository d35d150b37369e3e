/**
 * The Hunch vocabulary as a Hugging Face `tokenizer.json`, so other tools tokenize
 * exactly as the SDK does: search text goes through a byte-level BPE model (its pieces
 * are the vocabulary's `q:` tokens, same ids), and every other Hunch token (specials,
 * actions, items) is an added token matched before normalisation. The normaliser is
 * core's normalizeSearch (NFKC, lower case, non-letters/digits to one space, trimmed).
 */
import { BOS_TOKEN, PAD_TOKEN, SPECIAL_TOKENS, UNK_TOKEN, byteAlphabet, type Vocabulary } from '@hunch/core';

const SEARCH_PREFIX = 'q:';

export function tokenizerJson(vocabulary: Vocabulary): unknown {
  const specials = new Set<string>(SPECIAL_TOKENS);
  const added: unknown[] = [];
  const bpeVocab: Record<string, number> = {};
  vocabulary.tokens.forEach((token, id) => {
    if (token.startsWith(SEARCH_PREFIX)) {
      bpeVocab[token.slice(SEARCH_PREFIX.length)] = id;
    } else {
      added.push({ id, content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: specials.has(token) });
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
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFKC' },
        { type: 'Lowercase' },
        { type: 'Replace', pattern: { Regex: '[^\\p{L}\\p{N}]+' }, content: ' ' },
        { type: 'Strip', strip_left: true, strip_right: true },
      ],
    },
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

export function tokenizerConfig(maxLength: number): unknown {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: BOS_TOKEN,
    eos_token: BOS_TOKEN,
    unk_token: UNK_TOKEN,
    pad_token: PAD_TOKEN,
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
  };
}
