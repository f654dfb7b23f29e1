/**
 * What the client context offers to feature modules that live outside src/client's core, in
 * particular the QA-pair explorer (src/client/explorer/). The explorer exports
 * `registerExplorer(host: ExplorerHost): void` from src/client/explorer/index.ts; extension.ts
 * calls it once during activation. Names here are stable.
 */
import type * as vscode from 'vscode';
import type { DocumentStatusParams, ModelStatusParams, ResultParams } from '../protocol';

export interface ExplorerHost {
  readonly extensionContext: vscode.ExtensionContext;
  /** Fires for every `quals/result` the server publishes (one per summary, one per JSONL line). */
  readonly onResult: vscode.Event<ResultParams>;
  /** The latest results for a summary URI (several for a JSONL dataset, ordered by line). */
  latestResults(uri: string): readonly ResultParams[];
  /** Fires for every `quals/documentStatus` (checking, unpaired, error, ...); the explorer's empty states. */
  readonly onDocumentStatus: vscode.Event<DocumentStatusParams>;
  /** The latest status for a summary URI, if any arrived. */
  documentStatus(uri: string): DocumentStatusParams | undefined;
  /** Fires for every `quals/modelStatus`; the explorer shows "Choose Model..." when it is an error. */
  readonly onModelStatus: vscode.Event<ModelStatusParams>;
  /** The latest model status, if any arrived. */
  modelStatus(): ModelStatusParams | undefined;
  /** Disposed when the extension deactivates. */
  registerDisposable(disposable: vscode.Disposable): void;
  /** The "QUALS" output channel (log lines, error details). */
  readonly log: vscode.LogOutputChannel;
}
