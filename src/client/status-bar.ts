/**
 * The status bar item: the active summary's verdict in words ("QUALS: 2 unsupported", "QUALS:
 * consistent", "QUALS: no model — choose..."), a spinner only when a check takes longer than a
 * moment, hidden outside summaries and datasets and by `quals.statusBar.enabled`.
 */
import * as vscode from 'vscode';
import { isFindingDiagnostic } from '../protocol';
import { statusBarView } from './status-bar-logic';
import type { Ctx } from './context';

const SPINNER_AFTER_MS = 400;

function unsupportedCount(uri: vscode.Uri): number {
  return vscode.languages.getDiagnostics(uri).filter(isFindingDiagnostic).length;
}

export function registerStatusBar(ctx: Ctx): () => { text: string; command?: string } | undefined {
  const item = vscode.window.createStatusBarItem('quals.statusBar', vscode.StatusBarAlignment.Right, 100);
  item.name = 'QUALS';
  let spinnerTimer: ReturnType<typeof setTimeout> | undefined;
  let visible = false;

  const render = () => {
    clearTimeout(spinnerTimer);
    const doc = vscode.window.activeTextEditor?.document;
    const enabled = vscode.workspace.getConfiguration('quals', doc?.uri).get<boolean>('statusBar.enabled', true);
    const status = doc ? ctx.documentStatus(doc.uri.toString()) : undefined;
    const view = enabled && doc && (status || (ctx.started && !ctx.running)) ? statusBarView(!!ctx.running, status, ctx.modelStatus(), unsupportedCount(doc.uri)) : undefined;
    if (!view) {
      item.hide();
      visible = false;
      return;
    }
    const apply = () => {
      item.text = view.text;
      item.tooltip = view.tooltip;
      item.command = view.command;
      item.show();
      visible = true;
    };
    // A quick check keeps the last verdict; only a long one shows the spinner.
    if (status?.state === 'checking') spinnerTimer = setTimeout(apply, SPINNER_AFTER_MS);
    else apply();
  };

  ctx.registerDisposable(item);
  ctx.registerDisposable({ dispose: () => clearTimeout(spinnerTimer) });
  ctx.registerDisposable(ctx.onStatus(render));
  ctx.registerDisposable(ctx.onModelStatus(render));
  ctx.registerDisposable(vscode.window.onDidChangeActiveTextEditor(render));
  ctx.registerDisposable(vscode.languages.onDidChangeDiagnostics((e) => {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (e.uris.some((u) => u.toString() === active)) render();
  }));
  ctx.registerDisposable(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('quals.statusBar') && render()));
  render();
  return () => (visible ? { text: item.text, ...(typeof item.command === 'string' ? { command: item.command } : {}) } : undefined);
}
