/**
 * Applies the search order of src/scoring/pairing-order.ts (shared with the client's lazy start)
 * to real documents: URIs to paths, and which candidate sources exist on disk.
 */
import { existsSync } from 'node:fs';
import { URI } from 'vscode-uri';
import type { PairingResponse, RememberedPairs } from '../protocol';
import { findSource } from '../scoring/pairing-order';
import type { PairRule } from '../scoring/pairing';

export type Pairing =
  | { via: 'directive' | 'rule' | 'remembered'; sourceUri: string; sourcePath: string }
  | { via: 'jsonl' }
  | { via: null; message: string; missingSource?: string };

export const HOW_TO_PAIR =
  'Add "<!-- quals-source: path/to/source.md -->" to the summary, name it like "x.summary.md" next to "x.md", or run "QUALS: Pair with Source...".';

export interface PairingInput {
  uri: string;
  text: string;
  rules: readonly PairRule[];
  remembered: RememberedPairs;
  /** Workspace folder paths in the client's order (the first one holding the summary is its folder). */
  workspaceFolders: readonly string[];
  exists?: (path: string) => boolean;
}

/** Finds a summary's source: directive, then `quals.pairs` rules, then the remembered choice. */
export function resolvePairing(input: PairingInput): Pairing {
  const uri = URI.parse(input.uri);
  if (uri.scheme !== 'file') return { via: null, message: `Only files on disk can be paired (this is ${uri.scheme}:). ${HOW_TO_PAIR}` };
  const remembered = input.remembered[input.uri];
  const found = findSource(
    { path: uri.fsPath, text: input.text, rules: input.rules, workspaceFolders: input.workspaceFolders, remembered: remembered ? URI.parse(remembered).fsPath : undefined },
    input.exists ?? existsSync,
  );
  switch (found.via) {
    case 'jsonl':
      return { via: 'jsonl' };
    case null: {
      if (!found.missing) return { via: null, message: `No source is paired with this summary. ${HOW_TO_PAIR}` };
      const p = found.missing.path;
      // A named source that is missing is reported (not silently replaced by another pairing).
      const message = found.missing.via === 'directive' ? `The source named in the summary does not exist: ${p}` : `The paired source no longer exists: ${p}`;
      return { via: null, message, missingSource: p };
    }
    case 'remembered':
      return { via: 'remembered', sourcePath: found.path, sourceUri: remembered ?? URI.file(found.path).toString() };
    default:
      return { via: found.via, sourcePath: found.path, sourceUri: URI.file(found.path).toString() };
  }
}

/** The pairing as told to commands. */
export function describePairing(p: Pairing): PairingResponse {
  switch (p.via) {
    case null:
      return { via: null, message: p.message };
    case 'jsonl':
      return { via: 'jsonl', message: 'JSONL dataset: every line\'s summary is checked against that line\'s document.' };
    default: {
      const how = { directive: 'the directive in the summary', rule: 'a "quals.pairs" rule', remembered: 'your choice' }[p.via];
      return { via: p.via, sourceUri: p.sourceUri, message: `Paired with ${p.sourcePath} by ${how}.` };
    }
  }
}
