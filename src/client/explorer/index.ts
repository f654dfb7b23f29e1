/**
 * Registers the QA-pair explorer: the webview view and its commands. extension.ts calls
 * `registerExplorer(host)` once during activation.
 */
import * as vscode from 'vscode';
import { Commands, type ShowPairArgs } from '../../protocol';
import type { ExplorerHost } from '../host';
import { ExplorerViewProvider } from './explorer-view';

export const ExplorerCommands = {
  showPair: Commands.explorerShowPair,
  copyJson: 'quals.explorer.copyJson',
  saveReport: 'quals.explorer.saveReport',
  /** Not in package.json: integration tests read the view's state and save a report without the dialog. */
  state: 'quals.explorer._state',
  saveReportTo: 'quals.explorer._saveReportTo',
  fromView: 'quals.explorer._fromView',
} as const;

/** Hover links pass JSON arguments: check them like any untrusted input. */
function parseShowPairArgs(arg: unknown): ShowPairArgs | undefined {
  const a = (Array.isArray(arg) ? arg[0] : arg) as Record<string, unknown> | undefined;
  if (typeof a !== 'object' || a === null || typeof a.uri !== 'string' || typeof a.pairId !== 'string') return undefined;
  const line = Number.isInteger(a.line) && (a.line as number) >= 0 ? (a.line as number) : undefined;
  return { uri: a.uri, pairId: a.pairId, ...(line !== undefined ? { line } : {}) };
}

export function registerExplorer(host: ExplorerHost): ExplorerViewProvider {
  const provider = new ExplorerViewProvider(host);
  const d = (x: vscode.Disposable) => host.registerDisposable(x);
  d(vscode.window.registerWebviewViewProvider(ExplorerViewProvider.viewType, provider));
  d(
    vscode.commands.registerCommand(ExplorerCommands.showPair, async (arg: unknown) => {
      const args = parseShowPairArgs(arg);
      if (!args) {
        host.log.warn(`${ExplorerCommands.showPair}: ignored invalid arguments ${JSON.stringify(arg)?.slice(0, 200)}`);
        return;
      }
      await provider.showPair(args);
    }),
  );
  d(vscode.commands.registerCommand(ExplorerCommands.copyJson, () => provider.copyJson()));
  // Arguments are ignored: a menu passing a resource must never make the report overwrite that file.
  d(vscode.commands.registerCommand(ExplorerCommands.saveReport, () => provider.saveReport()));
  d(vscode.commands.registerCommand(ExplorerCommands.saveReportTo, (target: unknown) => (target instanceof vscode.Uri ? provider.saveReport(target) : undefined)));
  // Goes through the same validation as the webview's messages.
  d(vscode.commands.registerCommand(ExplorerCommands.fromView, (raw: unknown) => provider.receive(raw)));
  d(vscode.commands.registerCommand(ExplorerCommands.state, () => ({ state: provider.state(), rendered: provider.rendered })));
  return provider;
}
