/**
 * The order in which a summary's source is looked for. The language server pairs with it
 * (src/server/pairing-resolver.ts) and the client decides with it, before the server runs, whether
 * the server would check a file (src/client/summary-detect.ts): one order, so the two cannot drift.
 * Pure: paths are file-system paths (callers turn URIs into them) and the caller says what exists.
 *   1. a directive in the summary, relative to the summary's folder; a missing file ends the search
 *      (it is reported, not replaced by another pairing);
 *   2. the `quals.pairs` rules, relative to the first workspace folder holding the summary, in the
 *      editor's order (nested folders: the outer one when it comes first), else to the summary's
 *      folder; the first candidate that exists wins;
 *   3. the source picked with "Pair with Source..."; a missing file ends the search as in 1.
 * A JSONL dataset is not searched: each line pairs with its own document.
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { findDirective, isJsonlPath, sourceCandidates, type PairRule } from './pairing';

export interface SourceQuery {
  /** The summary's file-system path. */
  path: string;
  text: string;
  rules: readonly PairRule[];
  /** Workspace folder paths in the editor's order. */
  workspaceFolders: readonly string[];
  /** The path of the source the user picked for this summary, if any. */
  remembered?: string;
}

/** A file to look for; a `required` one that is missing ends the search. */
export type SourceStep = { via: 'rule'; path: string; required: false } | { via: 'directive' | 'remembered'; path: string; required: true };

export type SourceFound =
  | { via: 'jsonl' }
  | { via: SourceStep['via']; path: string }
  | { via: null; missing?: { via: 'directive' | 'remembered'; path: string } };

/** The candidate sources in the order they are tried (none for a JSONL dataset). */
export function sourceSteps(q: SourceQuery): SourceStep[] {
  if (isJsonlPath(q.path)) return [];
  const directive = findDirective(q.text);
  if (directive) {
    const path = isAbsolute(directive.source) ? directive.source : resolve(dirname(q.path), directive.source);
    return [{ via: 'directive', path, required: true }];
  }
  const folder = q.workspaceFolders.find((f) => q.path === f || q.path.startsWith(f.endsWith(sep) ? f : f + sep));
  const base = folder ?? dirname(q.path);
  const rel = relative(base, q.path).split(sep).join('/');
  const steps: SourceStep[] = sourceCandidates(rel, q.rules)
    .map((c) => resolve(base, c.source))
    .filter((p) => p !== q.path)
    .map((path) => ({ via: 'rule', path, required: false }));
  if (q.remembered) steps.push({ via: 'remembered', path: q.remembered, required: true });
  return steps;
}

/** Where the summary's source is, given which files exist. */
export function findSource(q: SourceQuery, exists: (path: string) => boolean): SourceFound {
  if (isJsonlPath(q.path)) return { via: 'jsonl' };
  for (const step of sourceSteps(q)) {
    if (exists(step.path)) return { via: step.via, path: step.path };
    if (step.required) return { via: null, missing: { via: step.via, path: step.path } };
  }
  return { via: null };
}
