/**
 * An open, unmodified summary or source rewritten on disk (a script, `git checkout`, another
 * editor) is re-checked even with `quals.checkOn: save`: VS Code reloads it as an edit, which that
 * setting ignores, and stale squiggles would stay. The server re-checks summaries of a changed source.
 */
import * as vscode from 'vscode';
import { scoreRequest } from '../protocol';
import type { Ctx } from './context';

/** VS Code reloads the editor's copy shortly after the file event: wait for that before checking. */
const RELOAD_GRACE_MS = 300;

export function registerDiskChangeRechecks(ctx: Ctx): void {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{md,markdown,txt,text,jsonl}', true, false, true);
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  ctx.registerDisposable(watcher);
  ctx.registerDisposable({ dispose: () => timers.forEach((t) => clearTimeout(t)) });
  ctx.registerDisposable(
    watcher.onDidChange((uri) => {
      const key = uri.toString();
      clearTimeout(timers.get(key));
      timers.set(
        key,
        setTimeout(() => {
          timers.delete(key);
          const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
          // Only open files without unsaved edits (those are the user's, not the disk's).
          if (!doc || doc.isDirty) return;
          // The file itself when QUALS checks it, and the open summaries checked against it.
          const targets = vscode.workspace.textDocuments
            .map((d) => d.uri.toString())
            .filter((u) => u === key || ctx.latestResults(u).some((r) => r.sourceUri === key))
            .filter((u) => {
              const state = ctx.documentStatus(u)?.state;
              return state !== undefined && state !== 'unpaired' && state !== 'disabled';
            });
          for (const uri of new Set(targets)) void ctx.running?.sendRequest(scoreRequest, { uri });
        }, RELOAD_GRACE_MS),
      );
    }),
  );
}
