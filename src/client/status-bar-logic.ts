/**
 * What the status bar item says for a document's state: pure (no `vscode`), so unit tests cover it.
 */
import { Commands, type DocumentStatusParams, type ModelStatusParams } from '../protocol';
import { formatScore } from '../scoring/localise';

export interface StatusBarView {
  text: string;
  tooltip: string;
  command?: string;
}

/** What the item shows for a document's status (undefined: hidden). Pure, for the unit tests. */
export function statusBarView(running: boolean, status: DocumentStatusParams | undefined, model: ModelStatusParams | undefined, unsupported: number): StatusBarView | undefined {
  if (!running) return { text: '$(warning) QUALS: server stopped', tooltip: 'The QUALS server is not running. Click to restart it.', command: Commands.restartServer };
  if (status?.state === 'unpaired') return undefined; // ordinary markdown: nothing to say
  if (model?.state === 'error' && model.code === 'not-configured') {
    return { text: '$(circle-slash) QUALS: no model — choose...', tooltip: 'QUALS needs a question-generation model. Click to choose one.', command: Commands.chooseModel };
  }
  const score = typeof status?.score === 'number' ? `Score ${formatScore(status.score)} (mean over QA pairs; near 0 = consistent).` : '';
  switch (status?.state) {
    case 'done':
      if (status.score === null || status.score === undefined) return { text: '$(info) QUALS: no QA pairs', tooltip: status.message ?? 'No answerable QA pairs were found in this summary.', command: Commands.scoreSummary };
      return unsupported > 0
        ? { text: `$(warning) QUALS: ${unsupported} unsupported`, tooltip: `${unsupported} finding(s) the source does not support. ${score} Click to list them.`, command: 'workbench.actions.view.problems' }
        : { text: '$(check) QUALS: consistent', tooltip: `No finding: no word of the summary is marked as unsupported by the source. ${score}`, command: Commands.scoreSummary };
    case 'checking':
      return { text: '$(sync~spin) QUALS: checking', tooltip: 'QUALS is checking this summary.' };
    case 'disabled':
      return { text: '$(circle-slash) QUALS: off', tooltip: status.message ?? 'QUALS is off for this file. Click to turn it on.', command: Commands.enableForFile };
    case 'error':
      return { text: '$(error) QUALS: problem', tooltip: `${status.message ?? 'The check failed.'} Click for the log.`, command: Commands.showOutput };
    default:
      // Unpaired files (ordinary markdown) and files never checked: nothing to say.
      return undefined;
  }
}
