/**
 * Pairing rules: which source document a summary is checked against. Pure functions (no file
 * system, no editor); the language server applies them in order of precedence:
 *   1. a directive in the summary (`<!-- quals-source: path -->` or YAML front matter `source:`),
 *   2. the `quals.pairs` rules (summary glob -> source patterns, first existing source wins),
 *   3. a pairing the user picked with "QUALS: Pair with Source...",
 * and JSONL datasets pair every line's summary with that line's document (./jsonl-lines.ts).
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
  const body = text.slice(offset).replace(new RegExp(COMMENT_DIRECTIVE.source, 'g'), (m) => ' '.repeat(m.length));
  return { text: body, offset };
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
  return head + text.slice(head.length).replace(new RegExp(COMMENT_DIRECTIVE.source, 'g'), blank);
}

export { DEFAULT_JSONL_FIELDS, readJsonlLine, splitLines } from './jsonl-lines';
export type { JsonlFields, JsonlLine, JsonlPair } from './jsonl-lines';

/** JSONL datasets pair line by line instead of file by file. */
export function isJsonlPath(path: string): boolean {
  return /\.jsonl$/i.test(path);
}
