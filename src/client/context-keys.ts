/**
 * Context keys that keep QUALS quiet outside summaries: menus, palette entries and the explorer
 * view appear only where they can act (package.json `when` clauses).
 *
 * - `quals.activeIsChecked`: the active file is a paired summary or a JSONL dataset QUALS checks
 *   (the server's status says so; before it has said anything, the client's own detection);
 * - `quals.seenChecked`: such a file was open at some point in this window (the explorer's view
 *   and its activity-bar container stay from then on, so moving to the source keeps them);
 * - `quals.activeDisabled`: QUALS is off for the active file;
 * - `quals.activeHasResult`: the active file has a result to copy or save.
 */
import * as vscode from 'vscode';
import type { DocumentStatusParams } from '../protocol';
import type { Ctx } from './context';
import type { Detector } from './lazy-start';

export interface ContextKeys {
  activeIsChecked: boolean;
  activeDisabled: boolean;
  activeHasResult: boolean;
}

/** The keys for the active file's status (`detected`: the client's verdict, ./summary-detect.ts). Pure, for the unit tests. */
export function contextKeys(status: DocumentStatusParams | undefined, hasResult: boolean, detected?: boolean): ContextKeys {
  const checked = status !== undefined ? status.state !== 'unpaired' : detected === true;
  return { activeIsChecked: checked, activeDisabled: status?.state === 'disabled', activeHasResult: checked && hasResult };
}

export function registerContextKeys(ctx: Ctx, detector: Detector): () => Readonly<Record<string, boolean>> {
  let seen = false;
  const last = new Map<string, boolean>();
  const set = (key: string, value: boolean) => {
    if (last.get(key) === value) return;
    last.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  };
  const update = () => {
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const keys = contextKeys(uri ? ctx.documentStatus(uri) : undefined, uri ? ctx.latestResults(uri).length > 0 : false, uri ? detector.verdict(uri) : undefined);
    seen ||= keys.activeIsChecked;
    set('quals.activeIsChecked', keys.activeIsChecked);
    set('quals.activeDisabled', keys.activeDisabled);
    set('quals.activeHasResult', keys.activeHasResult);
    set('quals.seenChecked', seen);
  };
  ctx.registerDisposable(ctx.onStatus(update));
  ctx.registerDisposable(ctx.onResult(update));
  ctx.registerDisposable(detector.onDidChange(update));
  ctx.registerDisposable(vscode.window.onDidChangeActiveTextEditor(update));
  update();
  return () => Object.fromEntries(last);
}
