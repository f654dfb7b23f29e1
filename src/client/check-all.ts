/**
 * "QUALS: Check All Summaries in Workspace": every paired summary and JSONL dataset of the
 * workspace is checked once, under a cancellable progress; findings land in the Problems view.
 * Files that pair with no source are skipped, and results the engine has cached come back at once.
 */
import * as vscode from 'vscode';
import { scoreRequest } from '../protocol';
import { tally, tallyMessage, type CheckAllTally } from './check-all-logic';
import type { Ctx } from './context';

const CANDIDATES = '**/*.{md,markdown,txt,jsonl}';
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/out/**,**/dist/**}';
const MAX_FILES = 2000;

export function checkAllSummaries(ctx: Ctx) {
  return async (): Promise<CheckAllTally | undefined> => {
    const client = await ctx.requireRunning();
    if (!client) return undefined;
    let t: CheckAllTally = { checked: 0, findings: 0, filesWithFindings: 0, failed: 0 };
    let cancelled = false;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'QUALS: checking summaries', cancellable: true },
      async (progress, token) => {
        const files = (await vscode.workspace.findFiles(CANDIDATES, EXCLUDE, MAX_FILES, token)).sort((a, b) => a.path.localeCompare(b.path));
        for (const [i, uri] of files.entries()) {
          if (token.isCancellationRequested) break;
          progress.report({ message: `${vscode.workspace.asRelativePath(uri)} (${i + 1}/${files.length})`, increment: 100 / Math.max(1, files.length) });
          try {
            // Opening (without showing) hands the file to the server; the check follows its pairing.
            await vscode.workspace.openTextDocument(uri);
            t = tally(t, await client.sendRequest(scoreRequest, { uri: uri.toString() }, token));
          } catch (e) {
            if (token.isCancellationRequested) break;
            ctx.log.warn(`check all: ${uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
            t = { ...t, failed: t.failed + 1 };
          }
        }
        cancelled = token.isCancellationRequested;
      },
    );
    const message = tallyMessage(t, cancelled);
    if (t.findings > 0) void ctx.notifier.info(message, { title: 'Show Problems', run: () => vscode.commands.executeCommand('workbench.actions.view.problems') });
    else void ctx.notifier.info(message);
    return t;
  };
}
