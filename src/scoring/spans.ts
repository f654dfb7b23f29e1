/**
 * Text positions the way VS Code and LSP count them (UTF-16 code units, lines split at \n, \r\n
 * and \r) and case-insensitive answer matching that prefers whole-word occurrences.
 */
import type { Position, TextSpan } from './result';

/** Maps UTF-16 offsets of one text to line/character positions. */
export class LineIndex {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0d) {
        if (text.charCodeAt(i + 1) === 0x0a) i++;
        this.lineStarts.push(i + 1);
      } else if (c === 0x0a) {
        this.lineStarts.push(i + 1);
      }
    }
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.lineStarts[lo]! };
  }

  span(start: number, end: number): TextSpan {
    return { start, end, range: { start: this.position(start), end: this.position(end) } };
  }
}

/** A text lower-cased code point by code point, with a map back to the original offsets. */
interface FoldedText {
  folded: string;
  /** For each UTF-16 unit of `folded`, the offset of the original code point it came from. */
  startOf: number[];
  /** For each UTF-16 unit of `folded`, the offset just after that original code point. */
  endOf: number[];
}

function fold(text: string): FoldedText {
  let folded = '';
  const startOf: number[] = [];
  const endOf: number[] = [];
  let i = 0;
  for (const ch of text) {
    const lower = ch.toLowerCase();
    for (let u = 0; u < lower.length; u++) {
      startOf.push(i);
      endOf.push(i + ch.length);
    }
    folded += lower;
    i += ch.length;
  }
  return { folded, startOf, endOf };
}

// Scripts written without spaces between words: no word-boundary test applies inside them.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD = /[\p{L}\p{N}\p{M}_]/u;

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && WORD.test(ch) && !UNSPACED.test(ch);
}

function codePointBefore(text: string, offset: number): string | undefined {
  if (offset <= 0) return undefined;
  const lo = text.charCodeAt(offset - 1);
  if (offset >= 2 && lo >= 0xdc00 && lo <= 0xdfff) return text.slice(offset - 2, offset);
  return text[offset - 1];
}

function codePointAt(text: string, offset: number): string | undefined {
  if (offset >= text.length) return undefined;
  return String.fromCodePoint(text.codePointAt(offset)!);
}

/**
 * A unit glued to a number: 1 to 3 letters after a digit, then the end of the word ("£20m", "5ft",
 * "3bn", "30C", "5pm", "1990s", "5th"). News text writes amounts this way; the number alone is the
 * answer a QA model gives ("How much did Arsenal pay?" -> "20").
 */
const GLUED_UNIT = /^\p{L}{1,3}(?![\p{L}\p{N}\p{M}_])/u;

/**
 * Whether [start, end) of text is a whole word (or words): no word character continues it on either
 * side, except that a match ending in a digit may be followed by a glued unit (GLUED_UNIT).
 */
export function isWholeWord(text: string, start: number, end: number): boolean {
  const first = codePointAt(text, start);
  const last = codePointBefore(text, end);
  const before = codePointBefore(text, start);
  const after = codePointAt(text, end);
  const leftOk = !(isWordChar(first) && isWordChar(before));
  // A combining mark after the match changes its last letter, so it always continues the word.
  const rightOk =
    !((isWordChar(last) && isWordChar(after)) || (after !== undefined && /\p{M}/u.test(after))) ||
    (last !== undefined && /\p{Nd}/u.test(last) && after !== undefined && !UNSPACED.test(after) && GLUED_UNIT.test(text.slice(end, end + 8)));
  return leftOk && rightOk;
}

export interface Match {
  start: number;
  end: number;
  wholeWord: boolean;
}

/**
 * Every case-insensitive occurrence of `needle` in `text` (non-overlapping, left to right). A run
 * of whitespace in the needle matches any run of whitespace in the text, so an answer still matches
 * a summary that wraps lines between its words.
 */
export function findOccurrences(text: string, needle: string): Match[] {
  const n = needle.trim();
  if (!n) return [];
  const t = fold(text);
  const words = fold(n).folded.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(words.join('\\s+'), 'gu');
  const out: Match[] = [];
  for (const m of t.folded.matchAll(pattern)) {
    const at = m.index!;
    const start = t.startOf[at]!;
    const end = t.endOf[at + m[0].length - 1]!;
    out.push({ start, end, wholeWord: isWholeWord(text, start, end) });
  }
  return out;
}

/**
 * The text a model reads: whitespace runs (line breaks, indentation, the blanks left where a
 * directive was) collapsed to one space and the ends trimmed, as in the data QA models are trained
 * on. `originalOffset` maps an offset of the collapsed text back to the original.
 */
export function collapseWhitespace(text: string): { text: string; originalOffset: (offset: number) => number } {
  const starts: number[] = [];
  let out = '';
  const re = /\s+/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index!;
    for (let i = last; i < at; i++) starts.push(i);
    out += text.slice(last, at);
    if (out.length > 0 && at + m[0].length < text.length) {
      starts.push(at);
      out += ' ';
    }
    last = at + m[0].length;
  }
  for (let i = last; i < text.length; i++) starts.push(i);
  out += text.slice(last);
  return {
    text: out,
    originalOffset: (offset) => (offset >= starts.length ? text.length - (text.length - text.trimEnd().length) : starts[offset]!),
  };
}

/** Whole-word occurrences of an answer in a text; the QA filter keeps a pair only if there is one. */
export function findAnswerSpans(text: string, answer: string, index: LineIndex = new LineIndex(text)): TextSpan[] {
  return findOccurrences(text, answer)
    .filter((m) => m.wholeWord)
    .map((m) => index.span(m.start, m.end));
}

/** Best place of an answer in a text: the first whole-word occurrence, else the first substring one. */
export function locateAnswer(text: string, answer: string, index: LineIndex = new LineIndex(text)): TextSpan | null {
  const all = findOccurrences(text, answer);
  const best = all.find((m) => m.wholeWord) ?? all[0];
  return best ? index.span(best.start, best.end) : null;
}
