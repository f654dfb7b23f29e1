/**
 * Pairing rules: which source document a summary is checked against. Pure functions (no file
 * system, no editor), applied in this order of precedence (./pairing-order.ts, which the server and
 * the client's lazy start share):
 *   1. a directive in the summary (`<!-- quals-source: path -->` or YAML front matter `source:`),
 *   2. the `quals.pairs` rules (summary glob -> source patterns, first existing source wins),
 *   3. a pairing the user picked with "QUALS: Pair with Source...",
 * and JSONL datasets pair every line's summary with that line's document (./jsonl-lines.ts).
 * Directive comments (`quals-source`, `quals-ignore`) are never scored: they are blanked out.
 */

/** One `quals.pairs` rule. */
export interface PairRule {
  /**
   * Glob over the summary's path relative to its workspace folder (`/`-separated). Each `**` /,
   * `*`, `?` and `{a,b}` is a capture, numbered from 1 in order of appearance.
   */
  summary: string;
  /** Source path pattern(s) relative to the workspace folder; `$1`, `$2`, ... insert the captures. */
  source: string | string[];
}

/** Defaults: `x.summary.md` -> `x.md` / `x.txt`, and `summaries/x` -> `sources/x`. */
export const DEFAULT_PAIR_RULES: readonly PairRule[] = Object.freeze([
  { summary: '**/*.summary.md', source: ['$1$2.md', '$1$2.txt'] },
  { summary: '**/*.summary.txt', source: ['$1$2.txt', '$1$2.md'] },
  { summary: '**/summaries/*', source: ['$1sources/$2'] },
]);

/** Translates a pairing glob into an anchored RegExp with one capture group per wildcard. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` spans zero or more whole directories; a bare trailing `**` spans anything.
      if (glob[i + 2] === '/') {
        re += '((?:[^/]*/)*)';
        i += 2;
      } else {
        re += '(.*)';
        i += 1;
      }
    } else if (c === '*') re += '([^/]*)';
    else if (c === '?') re += '([^/])';
    else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) {
        re += '\\{';
        continue;
      }
      const alternatives = glob.slice(i + 1, close).split(',').map(escapeRegExp);
      re += `(${alternatives.join('|')})`;
      i = close;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The candidate source paths for a summary path under the rules, in rule order. The caller
 * takes the first candidate that exists. A candidate equal to the summary itself is dropped.
 */
export function sourceCandidates(summaryPath: string, rules: readonly PairRule[]): { rule: PairRule; source: string }[] {
  const path = summaryPath.replace(/\\/g, '/');
  const out: { rule: PairRule; source: string }[] = [];
  for (const rule of rules) {
    if (!isPairRule(rule)) continue;
    const m = globToRegExp(rule.summary).exec(path);
    if (!m) continue;
    for (const pattern of Array.isArray(rule.source) ? rule.source : [rule.source]) {
      const source = pattern.replace(/\$(\d+)/g, (_, n: string) => m[Number(n)] ?? '');
      if (source !== path && !out.some((c) => c.source === source)) out.push({ rule, source });
    }
  }
  return out;
}

/** True for a well-formed rule object (settings are user-edited JSON). */
export function isPairRule(value: unknown): value is PairRule {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const src = r.source;
  return (
    typeof r.summary === 'string' &&
    r.summary.length > 0 &&
    (typeof src === 'string' || (Array.isArray(src) && src.every((s) => typeof s === 'string')))
  );
}

/** Where a directive names the source, and the summary text with the directive kept out of scoring. */
export interface SummaryDirective {
  /** The path as written (relative paths resolve against the summary's folder). */
  source: string;
  kind: 'comment' | 'front-matter';
}

const COMMENT_DIRECTIVE = /<!--\s*quals-source:\s*(.*?)\s*-->/;
/** `<!-- quals-ignore: Lyon, Joshua Klitschko -->`: findings on these words are not shown (any file type; plain text too). */
const IGNORE_DIRECTIVE = /<!--\s*quals-ignore:(.*?)-->/g;
/** Every directive comment: blanked before scoring. */
const ANY_DIRECTIVE = /<!--\s*quals-(?:source|ignore):.*?-->/g;
const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** Finds the source directive in a summary (the comment directive wins over front matter). */
export function findDirective(text: string): SummaryDirective | null {
  const comment = COMMENT_DIRECTIVE.exec(text);
  if (comment && comment[1]) return { source: unquote(comment[1]), kind: 'comment' };
  const fm = FRONT_MATTER.exec(text);
  if (fm) {
    const line = /^source:[ \t]*(.+?)[ \t]*$/m.exec(fm[1]!);
    if (line) return { source: unquote(line[1]!), kind: 'front-matter' };
  }
  return null;
}

function unquote(s: string): string {
  const m = /^(["'])(.*)\1$/.exec(s.trim());
  return m ? m[2]! : s.trim();
}

/**
 * The part of a summary that is scored: YAML front matter is cut off (`offset` says where the
 * scored text starts) and directive comments are blanked with spaces, so a result's spans map
 * back to the document by adding `offset`.
 */
export function scoredSummaryText(text: string): { text: string; offset: number } {
  const fm = FRONT_MATTER.exec(text);
  const offset = fm ? fm[0].length : 0;
  const body = text.slice(offset).replace(ANY_DIRECTIVE, (m) => m.replace(/[^\r\n]/g, ' '));
  return { text: body, offset };
}

/** One `<!-- quals-ignore: ... -->` comment: where it is in the text and the words it lists. */
export interface IgnoreDirective {
  start: number;
  end: number;
  /** Where a new word is appended (just before `-->`, after any trailing spaces are trimmed). */
  insertAt: number;
  words: string[];
}

/** The `quals-ignore` comments of a summary, in order. Words are comma-separated; empty ones are dropped. */
export function findIgnoreDirectives(text: string): IgnoreDirective[] {
  return [...text.matchAll(IGNORE_DIRECTIVE)].map((m) => {
    const list = m[1]!;
    const start = m.index!;
    const listStart = start + m[0].indexOf('quals-ignore:') + 'quals-ignore:'.length;
    return {
      start,
      end: start + m[0].length,
      insertAt: listStart + list.trimEnd().length,
      words: list.split(',').map(normaliseWords).filter(Boolean),
    };
  });
}

/** Every word or phrase the summary's `quals-ignore` comments list. */
export function ignoredWords(text: string): string[] {
  return [...new Set(findIgnoreDirectives(text).flatMap((d) => d.words))];
}

function normaliseWords(s: string): string {
  return s.replace(/\s+/g, ' ').trim().toLocaleLowerCase();
}

/**
 * True when a finding's blamed text is listed: the same words (case and spacing aside), or a word
 * run inside a listed phrase (ignoring "Joshua Klitschko" also hides a finding on "Klitschko").
 */
export function isIgnoredWord(blamed: string, listed: readonly string[]): boolean {
  const b = normaliseWords(blamed);
  if (!b) return false;
  return listed.some((w) => w === b || ` ${w} `.includes(` ${b} `));
}

/** The text of a directive that ignores `word`, or null when the word cannot be written in one. */
export function ignoreDirectiveText(word: string): string | null {
  const w = word.replace(/\s+/g, ' ').trim();
  if (!w || w.includes(',') || w.includes('--') || w.includes('>')) return null;
  return `<!-- quals-ignore: ${w} -->`;
}

/** Where a new directive line goes: after YAML front matter (which must stay first), else at the top. */
export function directiveInsertOffset(text: string): number {
  const fm = FRONT_MATTER.exec(text);
  return fm ? fm[0].length : 0;
}

/**
 * The summary with its front matter and directive comments blanked (every character but line
 * breaks turned into a space), so offsets and line numbers of a result stay those of the file.
 * The engine collapses whitespace before the model reads the text, so the blanks cost nothing.
 */
export function blankDirectives(text: string): string {
  const blank = (m: string) => m.replace(/[^\r\n]/g, ' ');
  const fm = FRONT_MATTER.exec(text);
  const head = fm ? blank(fm[0]) : '';
  return head + text.slice(head.length).replace(ANY_DIRECTIVE, blank);
}

export { DEFAULT_JSONL_FIELDS, readJsonlLine, splitLines } from './jsonl-lines';
export type { JsonlFields, JsonlLine, JsonlPair } from './jsonl-lines';

/** JSONL datasets pair line by line instead of file by file. */
export function isJsonlPath(path: string): boolean {
  return /\.jsonl$/i.test(path);
}
