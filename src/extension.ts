/**
 * Activation only: builds the client context and wires the features to it. The scoring engine
 * never loads here: it lives in the language server process (dist/server.js).
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

export async function activate(context: vscode.ExtensionContext): Promise<QualsApi> {
  const ctx = new Ctx(context);
  registerCommands(ctx);
  const picker = registerModelPicker(ctx);
  registerStatusItem(ctx);
  const statusBar = registerStatusBar(ctx);
  const contextKeys = registerContextKeys(ctx);
  registerDiskChangeRechecks(ctx);
  registerJsonlLenses(ctx);
  registerExplorer(ctx);
  try {
    await ctx.start();
  } catch (e) {
    void ctx.notifier.error('The QUALS server did not start.', e, { title: 'Restart Server', run: () => ctx.restart() });
  }
  return {
    host: ctx,
    serverInfo: async () => ctx.running?.sendRequest(serverInfoRequest),
    documentStatus: (uri) => ctx.documentStatus(uri),
    shownMessages: ctx.notifier.shown,
    modelPicker: () => picker.snapshot(),
    statusBar,
    contextKeys,
  };
}

export function deactivate(): void {
  // Ctx is disposed through context.subscriptions.
}
