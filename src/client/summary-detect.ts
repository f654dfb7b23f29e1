/**
 * Whether the language server would check a file: a summary that pairs with a source, or a JSONL
 * dataset with the configured fields. The client asks this before the server runs (the server
 * starts only for such files, src/client/lazy-start.ts), so it applies the same pure rules as
 * src/server/pairing-resolver.ts (../scoring/pairing.ts) without the server. No `vscode` here:
 * the unit tests run it as is.
 */
import {
  DEFAULT_JSONL_FIELDS,
  DEFAULT_PAIR_RULES,
  findDirective,
  isJsonlPath,
  isPairRule,
  readJsonlLine,
  sourceCandidates,
  splitLines,
  type JsonlFields,
  type PairRule,
} from '../scoring/pairing';

export interface DetectInput {
  /** The file's path, `/`-separated. */
  path: string;
  /** The path relative to its workspace folder (else to its own folder), `/`-separated. */
  relativePath: string;
  text: string;
  /** `quals.pairs` and `quals.jsonlFields` as the settings hold them (user-edited JSON). */
  pairs: unknown;
  jsonlFields: unknown;
  /** A pairing the user picked with "Pair with Source..." is remembered for this file. */
  remembered: boolean;
  /** Whether a rule's candidate source (relative to the same folder as `relativePath`) exists. */
  exists(relativeSource: string): Promise<boolean>;
}

/** JSONL datasets: the first lines decide (a dataset's records share their fields). */
const JSONL_LINES_LOOKED_AT = 50;

export async function isCheckedFile(input: DetectInput): Promise<boolean> {
  if (isJsonlPath(input.path)) return jsonlHasFields(input.text, fieldSets(input.jsonlFields));
  // A directive names a source: a summary even when that source is missing (the server says so).
  if (findDirective(input.text)) return true;
  for (const candidate of sourceCandidates(input.relativePath, pairRules(input.pairs))) {
    if (await input.exists(candidate.source)) return true;
  }
  return input.remembered;
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
