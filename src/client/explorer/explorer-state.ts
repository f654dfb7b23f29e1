/**
 * Decides what the explorer shows from what the server reported about the followed summary. Pure
 * (no `vscode`), so every state is unit tested; the provider gathers the inputs.
 */
import type { DocumentStatusParams, ModelStatusParams, ResultParams } from '../../protocol';
import type { DocRef, ExplorerState } from '../../shared/explorer-messages';

export interface StateInputs {
  /** The followed summary document, or null when no editor was ever active. */
  summary: DocRef | null;
  /** Its current document version (null when not open). */
  version: number | null;
  /** Latest results for it (several for a JSONL dataset, one per line). */
  results: readonly ResultParams[];
  status: DocumentStatusParams | undefined;
  model: ModelStatusParams | undefined;
  /** Zero-based cursor line in the summary editor: picks the JSONL line to show. */
  cursorLine: number | null;
  /** Pair threshold from `quals.threshold`. */
  threshold: number;
  /** Display name for a document URI (workspace-relative path or file name). */
  nameOf(uri: string): string;
}

/** Model errors that a different model choice fixes; others (e.g. runtime) are shown as errors. */
const MODEL_PROBLEMS = new Set(['not-configured', 'not-found', 'missing-file', 'invalid-file', 'format', 'offline', 'download']);

export function deriveState(i: StateInputs): ExplorerState {
  const { summary } = i;
  if (!summary) return { kind: 'no-summary', candidate: null };
  const status = i.status;
  const shown = pickResult(i.results, i.cursorLine);
  if (i.model?.state === 'error' && MODEL_PROBLEMS.has(i.model.code ?? '')) {
    return { kind: 'model-missing', summary, message: i.model.message ?? 'No QAGen model is configured (setting "quals.model").' };
  }
  switch (status?.state) {
    case 'unpaired':
      return { kind: 'not-paired', summary, ...(status.message ? { message: status.message } : {}) };
    case 'disabled':
      return { kind: 'disabled', summary, message: status.message ?? 'QUALS is disabled for this file.' };
    case 'error':
      return { kind: 'error', summary, message: status.message ?? 'The check failed; see the QUALS output for details.' };
    case 'checking':
      if (!shown) return { kind: 'scoring', summary, source: null };
      break;
  }
  if (!shown) return { kind: 'no-summary', candidate: summary };
  return {
    kind: 'result',
    summary: shown.line === undefined ? summary : { ...summary, name: `${summary.name}, line ${shown.line + 1}` },
    source: { uri: shown.sourceUri, name: shown.sourceUri === summary.uri ? 'its document field' : i.nameOf(shown.sourceUri) },
    result: shown.result,
    settings: { threshold: i.threshold },
    // The server's verdicts, judged with the diagnostics, so a badge never disagrees with a squiggle.
    verdicts: shown.verdicts,
    rescoring: status?.state === 'checking',
    outdated: shown.version !== null && i.version !== null && shown.version !== i.version,
  };
}

/** The single result, or for a dataset the line under the cursor (else the nearest line above, else the first). */
export function pickResult(results: readonly ResultParams[], cursorLine: number | null): ResultParams | undefined {
  if (results.length <= 1 || cursorLine === null) return results[0];
  let best: ResultParams | undefined;
  for (const r of results) if ((r.line ?? 0) <= cursorLine && (best === undefined || (r.line ?? 0) > (best.line ?? 0))) best = r;
  return best ?? results[0];
}
