/**
 * Applies the pure pairing rules (src/scoring/pairing.ts) to real documents: resolves paths
 * against the summary's folder or workspace folder and checks which candidate sources exist.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { URI } from 'vscode-uri';
import type { PairingResponse, RememberedPairs } from '../protocol';
import { findDirective, isJsonlPath, sourceCandidates, type PairRule } from '../scoring/pairing';

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
  workspaceFolders: readonly string[];
  exists?: (path: string) => boolean;
}

/** Finds a summary's source: directive, then `quals.pairs` rules, then the remembered choice. */
export function resolvePairing(input: PairingInput): Pairing {
  const exists = input.exists ?? existsSync;
  const uri = URI.parse(input.uri);
  if (uri.scheme !== 'file') return { via: null, message: `Only files on disk can be paired (this is ${uri.scheme}:). ${HOW_TO_PAIR}` };
  const path = uri.fsPath;
  if (isJsonlPath(path)) return { via: 'jsonl' };
  const fileOf = (p: string) => ({ sourcePath: p, sourceUri: URI.file(p).toString() });

  const directive = findDirective(input.text);
  if (directive) {
    const p = isAbsolute(directive.source) ? directive.source : resolve(dirname(path), directive.source);
    // A named source that is missing is reported (not silently replaced by another pairing).
    if (!exists(p)) return { via: null, message: `The source named in the summary does not exist: ${p}`, missingSource: p };
    return { via: 'directive', ...fileOf(p) };
  }

  const folder = input.workspaceFolders.find((f) => path === f || path.startsWith(f.endsWith(sep) ? f : f + sep));
  const base = folder ?? dirname(path);
  const rel = relative(base, path).split(sep).join('/');
  for (const candidate of sourceCandidates(rel, input.rules)) {
    const p = resolve(base, candidate.source);
    if (p !== path && exists(p)) return { via: 'rule', ...fileOf(p) };
  }

  const remembered = input.remembered[input.uri];
  if (remembered) {
    const p = URI.parse(remembered).fsPath;
    if (!exists(p)) return { via: null, message: `The paired source no longer exists: ${p}`, missingSource: p };
    return { via: 'remembered', sourcePath: p, sourceUri: remembered };
  }
  return { via: null, message: `No source is paired with this summary. ${HOW_TO_PAIR}` };
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
