/**
 * Byte-level BPE, the tokenizer of GPT-2 and of Hugging Face `tokenizers`' "BPE" model
 * with a "ByteLevel" pre-tokenizer: text is split with GPT-2's pattern, each piece's
 * UTF-8 bytes are mapped to printable characters (a space becomes "Ġ"), then merged by
 * rank. Any text encodes without unknown tokens once the 256 byte symbols are in the
 * vocabulary. Isomorphic: the trainer learns merges, the browser applies them.
 */

/** GPT-2's pre-tokenization pattern (contractions, letters, digits, other, spaces). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export type Merge = readonly [string, string];

let byteSymbols: string[] | undefined;

/** GPT-2's map from the 256 byte values to printable characters, byte order. */
export function byteAlphabet(): readonly string[] {
  if (byteSymbols) return byteSymbols;
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  byteSymbols = Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
  return byteSymbols;
}

const encoder = new TextEncoder();

/** Pre-tokenized words of `text`, each as its byte symbols joined ("Ġred" for " red"). */
export function byteLevelWords(text: string): string[] {
  const alphabet = byteAlphabet();
  return Array.from(text.matchAll(GPT2_SPLIT), ([word]) => Array.from(encoder.encode(word), (b) => alphabet[b]!).join(''));
}

const pairKey = (a: string, b: string) => `${a} ${b}`;

export class ByteLevelBPE {
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  constructor(readonly merges: readonly Merge[]) {
    this.ranks = new Map(merges.map(([a, b], rank) => [pairKey(a, b), rank]));
  }

  /** Every symbol this BPE can output: the byte alphabet, then one per merge, in order. */
  symbols(): string[] {
    return [...byteAlphabet(), ...this.merges.map(([a, b]) => a + b)];
  }

  /** The BPE pieces of `text`. */
  encode(text: string): string[] {
    return byteLevelWords(text).flatMap((word) => this.encodeWord(word));
  }

  /** The BPE pieces of one pre-tokenized word (as byteLevelWords gives it). */
  encodeWord(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let parts = Array.from(word);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rank = this.ranks.get(pairKey(parts[i]!, parts[i + 1]!));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [parts[best]!, parts[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]!);
      }
      parts = merged;
    }
    if (this.cache.size < 10_000) this.cache.set(word, parts);
    return parts;
  }
}

/**
 * Learns up to `maxMerges` merges from texts with their counts, most frequent pair first
 * (ties: the pair that sorts first), skipping pairs seen fewer than `minCount` times.
 * With `after`, the words start as those merges cut them and only further merges are
 * learned (to append to `after`: a vocabulary grown with a shop's new searches).
 */
export function learnMerges(texts: Iterable<readonly [string, number]>, maxMerges: number, minCount = 2, after: readonly Merge[] = []): Merge[] {
  const words = new Map<string, number>();
  for (const [text, count] of texts) {
    for (const word of byteLevelWords(text)) words.set(word, (words.get(word) ?? 0) + count);
  }
  const start = new ByteLevelBPE(after);
  const split = [...words].map(([word, count]) => ({ parts: after.length > 0 ? [...start.encodeWord(word)] : Array.from(word), count }));
  const merges: Merge[] = [];
  while (merges.length < maxMerges) {
    const pairs = new Map<string, number>();
    for (const { parts, count } of split) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = pairKey(parts[i]!, parts[i + 1]!);
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let bestKey: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && bestKey !== undefined && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey === undefined || bestCount < minCount) break;
    const [a, b] = bestKey.split(' ') as [string, string];
    merges.push([a, b]);
    for (const word of split) {
      const merged: string[] = [];
      for (let i = 0; i < word.parts.length; i++) {
        if (i + 1 < word.parts.length && word.parts[i] === a && word.parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(word.parts[i]!);
      }
      word.parts = merged;
    }
  }
  return merges;
}
