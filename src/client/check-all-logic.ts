/** The tally of "Check All Summaries in Workspace": pure (no `vscode`), so unit tests cover it. */
import type { ScoreResponse } from '../protocol';

export interface CheckAllTally {
  checked: number;
  findings: number;
  filesWithFindings: number;
  failed: number;
}

/** Adds one file's answer to the tally (unpaired and disabled files are not summaries here). */
export function tally(t: CheckAllTally, r: ScoreResponse): CheckAllTally {
  if (r.state === 'error') return { ...t, failed: t.failed + 1 };
  if (r.state !== 'done') return t;
  const flagged = r.flagged ?? 0;
  return { checked: t.checked + 1, findings: t.findings + flagged, filesWithFindings: t.filesWithFindings + (flagged > 0 ? 1 : 0), failed: t.failed };
}

export function tallyMessage(t: CheckAllTally, cancelled: boolean): string {
  const head = cancelled ? 'QUALS check stopped' : 'QUALS checked the workspace';
  if (t.checked === 0 && t.failed === 0) return `${head}: no paired summaries or datasets found.`;
  const found = t.findings === 0 ? 'no findings' : `${t.findings} finding(s) in ${t.filesWithFindings} file(s)`;
  return `${head}: ${t.checked} summar${t.checked === 1 ? 'y' : 'ies'}, ${found}${t.failed ? `, ${t.failed} could not be checked` : ''}.`;
}
