/**
 * A thin wrapper over @huggingface/tokenizers (pure JS; loads tokenizer.json + tokenizer_config.json)
 * that exposes just what the engine needs: ids without special tokens, decoding, and per-token
 * text with UTF-16 offsets.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from '../errors';

export interface TokenPiece {
  id: number;
  text: string;
  start: number;
  end: number;
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(tokenizerJson: object, tokenizerConfig: object) {
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (e) {
      throw new ModelError('invalid-file', `tokenizer.json could not be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** Token ids of a text, without the special tokens a post-processor would add. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of ids, special tokens skipped, spacing kept exactly as the tokens encode it. */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /**
   * The special tokens the tokenizer's own post-processor puts around a text (BART: `<s>` before
   * and `</s>` after; T5: `</s>` after), as Hugging Face's training code fed them to the model.
   */
  specialsAround(): { before: number[]; after: number[] } {
    const plain = this.encode('a');
    const full = this.tokenizer.encode('a', { add_special_tokens: true }).ids;
    for (let at = 0; at + plain.length <= full.length; at++) {
      if (plain.every((id, i) => full[at + i] === id)) return { before: full.slice(0, at), after: full.slice(at + plain.length) };
    }
    return { before: [], after: [] };
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  tokenString(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /**
   * Each token's share of decode(ids), as text and UTF-16 offsets into that string. Decoding prefixes
   * (rather than single tokens) keeps multi-token characters such as emoji intact; a token that only
   * completes a character gets the whole character, earlier partial tokens get empty text.
   */
  pieces(ids: readonly number[]): { text: string; pieces: TokenPiece[] } {
    const pieces: TokenPiece[] = [];
    let prev = '';
    for (let i = 0; i < ids.length; i++) {
      const cur = this.decode(ids.slice(0, i + 1));
      // A prefix that ends inside a multi-byte character decodes to U+FFFD; treat it as pending.
      const complete = !cur.endsWith('\uFFFD') || i === ids.length - 1;
      if (complete && cur.startsWith(prev)) {
        pieces.push({ id: ids[i]!, text: cur.slice(prev.length), start: prev.length, end: cur.length });
        prev = cur;
      } else {
        pieces.push({ id: ids[i]!, text: '', start: prev.length, end: prev.length });
      }
    }
    return { text: prev, pieces };
  }
}
