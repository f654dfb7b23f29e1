/**
 * Input records -> (id, source, summary): JSON parsing and field mapping with one-line errors that
 * name the input line, so a bad line is reported and skipped instead of stopping a long run.
 */
import type { InputLine } from './jsonl';

export type LineErrorCode = 'not-utf8' | 'invalid-json' | 'not-object' | 'missing-field' | 'wrong-type' | 'empty-text' | 'empty-line' | 'scoring-failed';

export interface LineError {
  code: LineErrorCode | string;
  message: string;
}

export type RecordId = string | number | null;
export type JsonRecord = Record<string, unknown>;

/** Field names tried in order; the first present one is used. */
export interface FieldMapping {
  source: string[];
  summary: string[];
  id: string[];
}

/** `document`/`summary` (generic), `article`/`highlights` (CNN/DailyMail), `id`. */
export const DEFAULT_FIELDS: Readonly<FieldMapping> = Object.freeze({
  source: ['document', 'article'],
  summary: ['summary', 'highlights'],
  id: ['id'],
});

export type Parsed<T> = { ok: true; value: T } | { ok: false; id: RecordId; error: LineError };

export function parseRecord(line: InputLine): Parsed<JsonRecord> {
  if (line.notUtf8) return fail(null, 'not-utf8', `line ${line.lineNo}: not valid UTF-8; convert the file (e.g. iconv -f latin1 -t utf-8)`);
  if (line.text.trim() === '') return fail(null, 'empty-line', `line ${line.lineNo}: empty line`);
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (e) {
    return fail(null, 'invalid-json', `line ${line.lineNo}: invalid JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(null, 'not-object', `line ${line.lineNo}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)?.slice(0, 40)}`);
  }
  return { ok: true, value: value as JsonRecord };
}

export function recordId(record: JsonRecord, names: readonly string[]): RecordId {
  for (const name of names) {
    const v = record[name];
    if (v === undefined || v === null) continue;
    return typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v);
  }
  return null;
}

/** Reads the first present field of `names` as non-empty text; `flag` names the option that renames it. */
export function textField(record: JsonRecord, names: readonly string[], lineNo: number, flag: string): Parsed<string> {
  for (const name of names) {
    const v = record[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') return fail(null, 'wrong-type', `line ${lineNo}: field "${name}" must be a string, got ${v === null ? 'null' : typeof v}`);
    if (v.trim() === '') return fail(null, 'empty-text', `line ${lineNo}: field "${name}" is empty`);
    return { ok: true, value: v };
  }
  const list = names.map((n) => `"${n}"`).join(' or ');
  return fail(null, 'missing-field', `line ${lineNo}: no ${list} field (name it with ${flag})`);
}

export interface PairRecord {
  id: RecordId;
  source: string;
  summary: string;
}

export function extractPair(record: JsonRecord, lineNo: number, fields: FieldMapping): Parsed<PairRecord> {
  const id = recordId(record, fields.id);
  const source = textField(record, fields.source, lineNo, '--doc-field');
  if (!source.ok) return { ...source, id };
  const summary = textField(record, fields.summary, lineNo, '--summary-field');
  if (!summary.ok) return { ...summary, id };
  return { ok: true, value: { id, source: source.value, summary: summary.value } };
}

function fail(id: RecordId, code: LineErrorCode, message: string): { ok: false; id: RecordId; error: LineError } {
  return { ok: false, id, error: { code, message } };
}
