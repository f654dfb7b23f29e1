/** Helpers for the integration suite: wait for state changes instead of sleeping. */
import * as vscode from 'vscode';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** Pids of the language servers this extension host forked (its child processes running server.js). */
export function serverProcesses(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (/dist\/server\.js/.test(readFileSync(`/proc/${name}/cmdline`, 'utf8'))) pids.push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
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

/**
 * Asks the code-server harness to act on the page (run.mjs `pageRequest`): `type TEXT`, `key KEY`,
 * `click SELECTOR` or `text SELECTOR`. Undefined where no harness listens (desktop VS Code through electron.mjs).
 */
export async function page(request: string): Promise<{ ok: boolean; text?: string[]; error?: string } | undefined> {
  const dir = process.env.QUALS_TEST_SIGNAL_DIR;
  if (!dir) return undefined;
  const file = join(dir, 'page.json');
  rmSync(file, { force: true });
  console.log(`QUALS-PAGE ${request}`);
  await waitFor(`the page request "${request}"`, () => existsSync(file), 15_000);
  return JSON.parse(readFileSync(file, 'utf8')) as { ok: boolean; text?: string[]; error?: string };
}

/** Waits until the server has loaded (or failed to load) the model and asserts it is ready. */
export async function modelReady(quals: QualsApi): Promise<void> {
  const model = await waitFor('the model to load', async () => {
    const m = (await quals.serverInfo())?.model;
    // A server that has not tried to load anything yet (it starts with a paired summary's open, and
    // answers before that check has read the settings) reports a bare "not-configured" placeholder.
    const placeholder = m?.state === 'error' && m.message === undefined;
    return m?.state === 'ready' || (m?.state === 'error' && !placeholder) ? m : undefined;
  }, 60_000);
  if (model.state !== 'ready') throw new Error(`model failed: ${model.message}`);
}
