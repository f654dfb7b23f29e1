/** Helpers for the integration suite: wait for state changes instead of sleeping. */
import * as vscode from 'vscode';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { QualsApi } from '../../../src/client/api';

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function api(): Promise<QualsApi> {
  const ext = vscode.extensions.getExtension<QualsApi>('quals.quals-vscode');
  if (!ext) throw new Error('extension quals.quals-vscode not found');
  return ext.isActive ? ext.exports : ext.activate();
}

export function workspaceUri(rel: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the suite needs the fixture workspace open');
  return vscode.Uri.joinPath(folder.uri, rel);
}

export function qualsDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'QUALS');
}

/** The range of the first occurrence of `text` in a document. */
export function rangeOf(doc: vscode.TextDocument, text: string, from = 0): vscode.Range {
  const at = doc.getText().indexOf(text, from);
  if (at < 0) throw new Error(`"${text}" not in ${doc.uri.path}`);
  return new vscode.Range(doc.positionAt(at), doc.positionAt(at + text.length));
}

export async function open(rel: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(rel));
  await vscode.window.showTextDocument(doc);
  return doc;
}

/**
 * Asks the code-server harness for a screenshot and waits until it is written (no-op elsewhere).
 * Without a name it is the squiggle + hover one (squiggle-hover.png); else `<name>.png` beside it.
 */
export async function screenshot(name?: string): Promise<void> {
  const dir = process.env.QUALS_TEST_SIGNAL_DIR;
  if (!dir) return;
  rmSync(join(dir, 'screenshot-done'), { force: true });
  console.log(name ? `QUALS-SCREENSHOT ${name}` : 'QUALS-SCREENSHOT');
  await waitFor('the screenshot', () => existsSync(join(dir, 'screenshot-done')), 15_000);
}

/** Waits until the server has loaded (or failed to load) the model and asserts it is ready. */
export async function modelReady(quals: QualsApi): Promise<void> {
  const model = await waitFor('the model to load', async () => {
    const m = (await quals.serverInfo())?.model;
    return m?.state === 'ready' || m?.state === 'error' ? m : undefined;
  }, 60_000);
  if (model.state !== 'ready') throw new Error(`model failed: ${model.message}`);
}
