/**
 * Whether the language server would check a file: a summary that pairs with a source, or a JSONL
 * dataset with the configured fields. The client asks this before the server runs (the server
 * starts only for such files, src/client/lazy-start.ts), so it searches in the server's own order
 * (../scoring/pairing-order.ts) without the server. No `vscode` here: the unit tests run it as is.
 */
import { findSource, sourceSteps, type SourceQuery } from '../scoring/pairing-order';
import {
  DEFAULT_JSONL_FIELDS,
  DEFAULT_PAIR_RULES,
  isJsonlPath,
  isPairRule,
  readJsonlLine,
  splitLines,
  type JsonlFields,
  type PairRule,
} from '../scoring/pairing';

export interface DetectInput {
  /** The file's path on disk, as the server sees it (`Uri.fsPath`). */
  path: string;
  text: string;
  /** The workspace folders' paths in the editor's order (the order the server is given them). */
  workspaceFolders: readonly string[];
  /** `quals.pairs` and `quals.jsonlFields` as the settings hold them (user-edited JSON). */
  pairs: unknown;
  jsonlFields: unknown;
  /** The path of the source picked with "Pair with Source..." for this file, if any. */
  remembered?: string;
  /** Whether a file exists (an absolute path). */
  exists(path: string): Promise<boolean>;
}

/** JSONL datasets: the first lines decide (a dataset's records share their fields). */
const JSONL_LINES_LOOKED_AT = 50;

export async function isCheckedFile(input: DetectInput): Promise<boolean> {
  if (isJsonlPath(input.path)) return jsonlHasFields(input.text, fieldSets(input.jsonlFields));
  const query: SourceQuery = { path: input.path, text: input.text, rules: pairRules(input.pairs), workspaceFolders: input.workspaceFolders, remembered: input.remembered };
  const paths = sourceSteps(query).map((s) => s.path);
  const present = await Promise.all(paths.map((p) => input.exists(p)));
  const existing = new Set(paths.filter((_, i) => present[i]));
  const found = findSource(query, (p) => existing.has(p));
  if (found.via !== null) return true;
  // A directive or a remembered pairing whose source is missing still marks the file as a summary:
  // the server reports the missing file on it ("The paired source no longer exists").
  return found.missing !== undefined;
}

function jsonlHasFields(text: string, fields: readonly JsonlFields[]): boolean {
  let seen = 0;
  for (const line of splitLines(text)) {
    const parsed = readJsonlLine(line.text, fields);
    if (parsed.kind === 'pair') return true;
    if (parsed.kind !== 'blank' && ++seen >= JSONL_LINES_LOOKED_AT) return false;
  }
  return false;
}

function pairRules(value: unknown): readonly PairRule[] {
  return Array.isArray(value) ? value.filter(isPairRule) : DEFAULT_PAIR_RULES;
}

function fieldSets(value: unknown): readonly JsonlFields[] {
  const ok = Array.isArray(value)
    ? value.filter((f): f is JsonlFields => !!f && typeof (f as JsonlFields).document === 'string' && typeof (f as JsonlFields).summary === 'string')
    : [];
  return ok.length > 0 ? ok : DEFAULT_JSONL_FIELDS;
}
