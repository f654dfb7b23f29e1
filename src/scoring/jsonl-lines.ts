/**
 * JSONL dataset lines: finds a line's document and summary fields and where the summary's
 * characters sit in the raw line, so that spans computed on the decoded summary text can be
 * placed on the line even when the JSON string contains escapes (`\"`, `\n`, `\u00e9`).
 */

/** Field names of one dataset layout. */
export interface JsonlFields {
  document: string;
  summary: string;
}

/** Tried in order when a line is read: XSum-style, then CNN/DailyMail-style. */
export const DEFAULT_JSONL_FIELDS: readonly JsonlFields[] = Object.freeze([
  { document: 'document', summary: 'summary' },
  { document: 'article', summary: 'highlights' },
]);

export interface JsonlPair {
  fields: JsonlFields;
  document: string;
  summary: string;
  /**
   * Raw UTF-16 offset in the line of each decoded summary code unit, plus one entry for the end:
   * `rawOffsets[i]` is where decoded character i starts; `rawOffsets[summary.length]` is the
   * closing quote.
   */
  rawOffsets: number[];
  /** The same map for the document field (related information points into it). */
  documentRawOffsets: number[];
}

export type JsonlLine = { kind: 'pair'; pair: JsonlPair } | { kind: 'blank' } | { kind: 'skip'; reason: string };

/** Reads one dataset line. Lines without the fields (or not JSON objects) are skipped with a reason. */
export function readJsonlLine(line: string, fieldSets: readonly JsonlFields[] = DEFAULT_JSONL_FIELDS): JsonlLine {
  if (line.trim() === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'skip', reason: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'skip', reason: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  for (const fields of fieldSets) {
    const document = record[fields.document];
    const summary = record[fields.summary];
    if (typeof document !== 'string' || typeof summary !== 'string') continue;
    const rawStart = findTopLevelStringValue(line, fields.summary);
    const docStart = findTopLevelStringValue(line, fields.document);
    if (rawStart < 0 || docStart < 0) continue;
    const rawOffsets = decodeOffsets(line, rawStart);
    const documentRawOffsets = decodeOffsets(line, docStart);
    return { kind: 'pair', pair: { fields, document, summary, rawOffsets, documentRawOffsets } };
  }
  const names = fieldSets.map((f) => `"${f.document}"/"${f.summary}"`).join(' or ');
  return { kind: 'skip', reason: `no string fields ${names}` };
}

/**
 * Raw offset of the opening quote of the LAST top-level `key` string value (JSON.parse keeps the
 * last duplicate key too), or -1. The line is known to be a valid JSON object.
 */
function findTopLevelStringValue(line: string, key: string): number {
  let i = line.indexOf('{') + 1;
  let found = -1;
  const ws = () => {
    while (i < line.length && /\s/.test(line[i]!)) i++;
  };
  for (;;) {
    ws();
    if (line[i] === '}' || i >= line.length) return found;
    const keyStart = i;
    i = skipString(line, i);
    const name = JSON.parse(line.slice(keyStart, i)) as string;
    ws();
    i++; // ':'
    ws();
    if (name === key && line[i] === '"') found = i;
    i = skipValue(line, i);
    ws();
    if (line[i] === ',') i++;
  }
}

/** Index just past the string starting at the quote at `i`. */
function skipString(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i + 1;
  }
  return i;
}

/** Index just past the JSON value starting at `i` (strings, numbers, literals, nested containers). */
function skipValue(s: string, i: number): number {
  if (s[i] === '"') return skipString(s, i);
  if (s[i] === '{' || s[i] === '[') {
    let depth = 0;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '"') i = skipString(s, i) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return i;
  }
  while (i < s.length && !/[,}\s]/.test(s[i]!)) i++;
  return i;
}

const SHORT_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** Maps each decoded code unit of the string whose opening quote is at `quote` to its raw offset. */
function decodeOffsets(s: string, quote: number): number[] {
  const offsets: number[] = [];
  let i = quote + 1;
  while (i < s.length && s[i] !== '"') {
    offsets.push(i);
    if (s[i] === '\\') i += SHORT_ESCAPES.has(s[i + 1]!) ? 2 : 6; // \uXXXX is one UTF-16 unit
    else i++;
  }
  offsets.push(i);
  return offsets;
}

/** Splits a text into lines with the UTF-16 offset where each starts (`\n` or `\r\n` endings). */
export function splitLines(text: string): { text: string; offset: number }[] {
  const out: { text: string; offset: number }[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const lineEnd = end > start && text[end - 1] === '\r' ? end - 1 : end;
    out.push({ text: text.slice(start, lineEnd), offset: start });
    if (nl < 0) return out;
    start = nl + 1;
  }
}
