/**
 * Builds a byte-level BPE tokenizer in the BART / RoBERTa `tokenizer.json` format from a word
 * list, with merges chosen so that every listed word is exactly ONE token, both space-prefixed
 * (`Ġword`, mid-sentence) and bare (`word`, sentence-initial or right after the QAGen separator).
 * Used for generated test models and the tiny trained QAGen model.
 */

/** GPT-2's byte -> printable-character table (bytes that are not printable map above U+0100). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let i = 33; i <= 126; i++) printable.push(i);
  for (let i = 161; i <= 172; i++) printable.push(i);
  for (let i = 174; i <= 255; i++) printable.push(i);
  const table: string[] = new Array(256);
  for (const b of printable) table[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCodePoint(256 + n++);
  return table;
}

/** The GPT-2 BPE spelling of the real QAGen model's question/answer separator (id 50259 there). */
export const QAGEN_SEP_TOKEN = 'ĠstrutConnector';

export interface TokenizerSpec {
  /** Words that must each be one token (with and without a leading space). */
  words: readonly string[];
  /** Exact vocabulary tokens (byte-level spelling, e.g. `ĠstrutConnector`) that must also be single tokens. */
  extraTokens?: readonly string[];
  /** Pad the vocabulary with unreachable `<extra_N>` entries up to this size (`<mask>` stays last). */
  vocabSize?: number;
  modelMaxLength?: number;
}

export interface BuiltTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap: Record<string, string>;
  vocab: Map<string, number>;
  merges: string[];
}

const SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'] as const;

/**
 * Simulates byte-level BPE on one pre-token (already in byte-character form) with the given merge
 * ranks, exactly as the tokenizers library applies them: repeatedly merge the lowest-ranked pair.
 */
export function bpe(symbols: string[], ranks: Map<string, number>): string[] {
  const parts = symbols.slice();
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = ranks.get(`${parts[i]} ${parts[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts.splice(best, 2, parts[best]! + parts[best + 1]!);
  }
}

/** Builds the tokenizer; throws if a word contains characters that a byte-level pre-tokenizer would split. */
export function buildTokenizer(spec: TokenizerSpec): BuiltTokenizer {
  const b2u = bytesToUnicode();
  const toByteChars = (s: string) => [...new TextEncoder().encode(s)].map((b) => b2u[b]!);
  for (const w of spec.words) {
    if (!/^(\p{L}+|\p{N}+)$/u.test(w)) throw new Error(`tokenizer word "${w}" must be all letters or all digits`);
  }

  const vocab = new Map<string, number>();
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  SPECIALS.forEach(add);
  b2u.forEach(add);

  // Space-prefixed chains first: every Ġ-chain merge has a left side starting with Ġ, so inside a
  // Ġ pre-token the word's own next merge always outranks any bare-word merge and completes.
  const spaced = [...new Set([...spec.words.map((w) => 'Ġ' + w), ...(spec.extraTokens ?? [])])].sort();
  const bare = [...new Set(spec.words)].sort();
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  const addMerge = (left: string, right: string) => {
    const m = `${left} ${right}`;
    if (!ranks.has(m)) {
      ranks.set(m, merges.length);
      merges.push(m);
    }
    add(left + right);
  };
  const chain = (chars: string[]) => {
    let cur = chars[0]!;
    for (const c of chars.slice(1)) {
      addMerge(cur, c);
      cur += c;
    }
  };
  for (const t of spaced) chain([...t]);
  for (const w of bare) chain(toByteChars(w));

  // A bare word's inner pairs can collide with another word's prefix merge (e.g. "1 9" of "19"
  // inside "2019"). Repair: chain whatever pieces BPE stops at, with merges ranked last, which
  // cannot change any word that already ends as one token. Repeat until every word is whole.
  for (let round = 0; ; round++) {
    const broken = [...spaced.map((t) => [...t]), ...bare.map(toByteChars)].map((s) => bpe(s, ranks)).filter((p) => p.length > 1);
    if (!broken.length) break;
    if (round > 20) throw new Error(`tokenizer: could not make ${broken.length} words single tokens`);
    for (const parts of broken) chain(parts);
  }

  while (spec.vocabSize !== undefined && vocab.size < spec.vocabSize - 1) add(`<extra_${vocab.size}>`);
  add('<mask>');
  if (spec.vocabSize !== undefined && vocab.size !== spec.vocabSize) {
    throw new Error(`tokenizer needs ${vocab.size} entries, more than the requested vocabulary size ${spec.vocabSize}`);
  }

  const addedToken = (content: string) => ({
    id: vocab.get(content)!,
    content,
    single_word: false,
    lstrip: content === '<mask>',
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...SPECIALS, '<mask>'].map(addedToken),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  const specialTokensMap = {
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    sep_token: '</s>',
    pad_token: '<pad>',
    cls_token: '<s>',
    mask_token: '<mask>',
  };
  const tokenizerConfig = {
    tokenizer_class: 'BartTokenizer',
    add_prefix_space: false,
    errors: 'replace',
    model_max_length: spec.modelMaxLength ?? 1024,
    ...specialTokensMap,
  };
  return { tokenizerJson, tokenizerConfig, specialTokensMap, vocab, merges };
}
