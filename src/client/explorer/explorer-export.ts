/**
 * The explorer's exports: "Copy as JSON" (the result in the CLI's `--json` schema) and
 * "Save report..." (the standalone HTML report, written atomically so a failed save never leaves
 * a half-written file where the user asked for one).
 */
import * as vscode from 'vscode';
import type { ResultParams } from '../../protocol';
import { renderHtmlReport } from '../../report/html-report';
import type { JsonlFields } from '../../scoring/pairing';
import type { ExplorerState } from '../../shared/explorer-messages';
import { scoredTexts } from './locations';

export async function copyResultJson(params: ResultParams): Promise<void> {
  await vscode.env.clipboard.writeText(`${JSON.stringify(params.result, null, 2)}\n`);
  void vscode.window.showInformationMessage('Copied the QUALS result as JSON.');
}

export interface SaveReportInput {
  params: ResultParams;
  state: Extract<ExplorerState, { kind: 'result' }>;
  fields: readonly JsonlFields[] | undefined;
  /** Skips the save dialog (tests, or a caller that already asked). */
  target?: vscode.Uri;
}

/** Asks where to save (unless `target` is given), writes the report; resolves with where, or undefined if cancelled. */
export async function saveReport(input: SaveReportInput): Promise<vscode.Uri | undefined> {
  const { params, state } = input;
  const summaryUri = vscode.Uri.parse(params.uri);
  const target =
    input.target ??
    (await vscode.window.showSaveDialog({
      defaultUri: summaryUri.with({ path: `${summaryUri.path.replace(/\.[^./]*$/, '')}${params.line !== undefined ? `.line${params.line + 1}` : ''}.quals.html` }),
      filters: { 'HTML report': ['html'] },
      saveLabel: 'Save QUALS Report',
      title: 'Save QUALS report',
    }));
  if (!target) return undefined;
  const summaryDoc = await vscode.workspace.openTextDocument(summaryUri);
  const sourceText = await readOptional(vscode.Uri.parse(params.sourceUri));
  const texts = scoredTexts(params, summaryDoc.getText(), sourceText, input.fields);
  if (!texts) throw new Error(`line ${(params.line ?? 0) + 1} of ${state.summary.name} no longer holds a summary; re-check it first.`);
  const html = renderHtmlReport({
    summaryName: state.summary.name,
    sourceName: state.source.name,
    summaryText: texts.summary,
    ...(texts.source !== undefined ? { sourceText: texts.source } : {}),
    result: params.result,
    threshold: state.settings.threshold,
    verdicts: params.verdicts,
    generatedAt: new Date(),
  });
  await writeAtomically(target, new TextEncoder().encode(html));
  void vscode.window.showInformationMessage(`Saved the QUALS report to ${vscode.workspace.asRelativePath(target, false)}.`);
  return target;
}

/** The source's text from an open editor or from disk; undefined when it cannot be read (the report then omits excerpts). */
async function readOptional(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

/** Writes next to the target, then renames over it: readers see the old file or the new one, never a partial one. */
export async function writeAtomically(target: vscode.Uri, data: Uint8Array): Promise<void> {
  const base = target.path.slice(target.path.lastIndexOf('/') + 1);
  const dir = vscode.Uri.joinPath(target, '..');
  const temp = vscode.Uri.joinPath(dir, `.${base}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    await vscode.workspace.fs.writeFile(temp, data);
    await vscode.workspace.fs.rename(temp, target, { overwrite: true });
  } catch (e) {
    await vscode.workspace.fs.delete(temp).then(undefined, () => undefined);
    throw new Error(`could not write ${target.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
