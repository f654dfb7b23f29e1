/**
 * Activation only: builds the client context and wires the features to it. Cheap: the language
 * server (dist/server.js, where the scoring engine lives) starts only once a paired summary or a
 * JSONL dataset is open, or a command needs it (./client/lazy-start.ts).
 */
import type * as vscode from 'vscode';
import { serverInfoRequest } from './protocol';
import type { QualsApi } from './client/api';
import { registerCommands } from './client/commands';
import { Ctx } from './client/context';
import { registerExplorer } from './client/explorer';
import { registerModelPicker } from './client/model-picker';
import { registerStatusItem } from './client/status';
import { registerStatusBar } from './client/status-bar';
import { registerContextKeys } from './client/context-keys';
import { registerDiskChangeRechecks } from './client/disk-changes';
import { registerJsonlLenses } from './client/jsonl-lens';
import { registerLazyStart } from './client/lazy-start';

export async function activate(context: vscode.ExtensionContext): Promise<QualsApi> {
  const ctx = new Ctx(context);
  registerCommands(ctx);
  const picker = registerModelPicker(ctx);
  const languageStatus = registerStatusItem(ctx);
  const statusBar = registerStatusBar(ctx);
  const detector = registerLazyStart(ctx);
  const contextKeys = registerContextKeys(ctx, detector);
  registerDiskChangeRechecks(ctx);
  registerJsonlLenses(ctx);
  registerExplorer(ctx);
  return {
    host: ctx,
    serverStarted: () => ctx.started,
    serverInfo: async () => ctx.running?.sendRequest(serverInfoRequest),
    documentStatus: (uri) => ctx.documentStatus(uri),
    shownMessages: ctx.notifier.shown,
    modelPicker: () => picker.snapshot(),
    statusBar,
    languageStatus,
    contextKeys,
  };
}

export function deactivate(): void {
  // Ctx is disposed through context.subscriptions.
}
