/**
 * The language status item: last score, model and device of the active summary; a spinner only
 * when a check takes longer than a moment.
 */
import * as vscode from 'vscode';
import { Commands, type DocumentStatusParams } from '../protocol';
import { formatScore } from '../scoring/localise';
import { DOCUMENT_SELECTOR, type Ctx } from './context';

const SPINNER_AFTER_MS = 400;

/** Registers the item; returns what it shows now, for the integration suite. */
export function registerStatusItem(ctx: Ctx): () => { text: string; detail: string } {
  const item = vscode.languages.createLanguageStatusItem('quals.status', DOCUMENT_SELECTOR);
  item.name = 'QUALS';
  let spinnerTimer: ReturnType<typeof setTimeout> | undefined;

  const render = () => {
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const status: DocumentStatusParams | undefined = uri ? ctx.documentStatus(uri) : undefined;
    const model = ctx.modelStatus();
    clearTimeout(spinnerTimer);
    item.busy = false;
    if (!ctx.started) {
      // Nothing opened that QUALS checks: no server, and nothing to say.
      item.selector = NO_DOCUMENT;
      return;
    }
    if (!ctx.running) {
      item.text = 'QUALS: server stopped';
      item.severity = vscode.LanguageStatusSeverity.Warning;
      item.command = { title: 'Restart', command: Commands.restartServer };
    } else if (model?.state === 'error' && model.code === 'not-configured' && status?.state === 'error') {
      // First run: no model chosen yet is a step to take, not a failure.
      item.severity = vscode.LanguageStatusSeverity.Information;
      item.text = 'QUALS: no model';
      item.command = { title: 'Choose Model...', command: Commands.chooseModel };
    } else {
      item.severity = status?.state === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
      item.text = statusText(status) + (status?.state === 'done' && status.input ? (/truncated/.test(status.input) ? ' (truncated)' : ' (windowed)') : '');
      item.command = statusCommand(status);
      if (status?.state === 'checking') spinnerTimer = setTimeout(() => (item.busy = true), SPINNER_AFTER_MS);
    }
    // Quiet outside summaries: an ordinary markdown file (unpaired, or never checked) shows no QUALS item.
    item.selector = ctx.running && (!status || status.state === 'unpaired') ? NO_DOCUMENT : DOCUMENT_SELECTOR;
    // fp32 goes unsaid (the default); another variant is named, so a slower or faster run is explained.
    const variant = model?.variant && model.variant !== 'fp32' ? ` · ${model.variant}` : '';
    const modelText = model?.state === 'ready' ? `${shortModelName(model.model)}${variant} · ${model.device?.toUpperCase() ?? ''}` : model?.state === 'error' ? (model.code === 'not-configured' ? 'no model chosen' : 'model not loaded') : model ? `model ${model.state}` : '';
    item.detail = [status?.message, status?.state === 'done' ? status.input : undefined, modelText].filter(Boolean).join(' — ');
  };

  ctx.registerDisposable(item);
  ctx.registerDisposable({ dispose: () => clearTimeout(spinnerTimer) });
  ctx.registerDisposable(ctx.onStatus(render));
  ctx.registerDisposable(ctx.onModelStatus(render));
  ctx.registerDisposable(vscode.window.onDidChangeActiveTextEditor(render));
  render();
  return () => ({ text: item.text, detail: item.detail ?? '' });
}

const NO_DOCUMENT: vscode.DocumentSelector = [{ scheme: 'quals-none' }];

/** A model folder's last segment or a hub id, never a long absolute path. */
export function shortModelName(model: string): string {
  if (!/[\\/]/.test(model) || /^[\w.-]+\/[\w.-]+$/.test(model)) return model;
  return model.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? model;
}

/** The one action that fits the state. */
function statusCommand(status: DocumentStatusParams | undefined): vscode.Command {
  switch (status?.state) {
    case 'unpaired':
      return { title: 'Pair...', command: Commands.pairWithSource };
    case 'done':
      return { title: 'Show QA Pairs', command: 'quals.explorer.focus' };
    case 'disabled':
      return { title: 'Turn On', command: Commands.enableForFile };
    case 'error':
      return { title: 'Show Log', command: Commands.showOutput };
    default:
      return { title: 'Check Now', command: Commands.scoreSummary };
  }
}

function statusText(status: DocumentStatusParams | undefined): string {
  switch (status?.state) {
    case 'done':
      return status.score === null || status.score === undefined ? 'QUALS: no QA pairs' : `QUALS score ${formatScore(status.score)}`;
    case 'checking':
      return 'QUALS: checking';
    case 'unpaired':
      return 'QUALS: not paired';
    case 'disabled':
      return 'QUALS: off';
    case 'error':
      return 'QUALS: problem';
    default:
      return 'QUALS';
  }
}
