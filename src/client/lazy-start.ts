/**
 * The language server starts only when it has something to check: a paired summary or a JSONL
 * dataset with the configured fields is open (./summary-detect.ts), or a command needs it
 * (Ctx.ensureRunning). Opening a README activates the extension (cheap: commands, status items)
 * but starts no process. The verdicts also feed the context keys before the server has said anything.
 * Once the server runs, detection stops (./lazy-start-logic.ts): the server's statuses take over.
 */
import * as vscode from 'vscode';
import type { Ctx } from './context';
import { Detection } from './lazy-start-logic';
import { isCheckedFile } from './summary-detect';

export interface Detector {
  /** The last verdict for an open file: true = QUALS checks it (undefined: not looked at yet). */
  verdict(uri: string): boolean | undefined;
  readonly onDidChange: vscode.Event<void>;
}

/** The files the server is given (as the client's document selector, ./context.ts). */
function candidate(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && (doc.languageId === 'markdown' || doc.languageId === 'plaintext' || /\.jsonl$/i.test(doc.uri.path));
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

async function detect(ctx: Ctx, doc: vscode.TextDocument): Promise<boolean> {
  const config = vscode.workspace.getConfiguration('quals', doc.uri);
  // QUALS turned off: nothing to check, so no server process for this file.
  if (config.get<boolean>('enabled', true) === false) return false;
  const remembered = ctx.state.value.pairs[doc.uri.toString()];
  return isCheckedFile({
    path: doc.uri.fsPath,
    text: doc.getText(),
    // As the language client hands them to the server: every folder, in the editor's order.
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    pairs: config.get('pairs'),
    jsonlFields: config.get('jsonlFields'),
    remembered: remembered ? vscode.Uri.parse(remembered).fsPath : undefined,
    exists: (path) => exists(vscode.Uri.file(path)),
  });
}

export function registerLazyStart(ctx: Ctx): Detector {
  const changed = new vscode.EventEmitter<void>();
  const listeners: vscode.Disposable[] = [];
  const dropListeners = () => listeners.splice(0).forEach((l) => l.dispose());
  const detection = new Detection<vscode.TextDocument>({
    key: (doc) => doc.uri.toString(),
    isClosed: (doc) => doc.isClosed,
    check: (doc) => detect(ctx, doc),
    started: () => ctx.started,
    start: (doc) => {
      ctx.log.info(`starting the server: ${vscode.workspace.asRelativePath(doc.uri)} is checked by QUALS`);
      void ctx.ensureRunning();
    },
    changed: () => changed.fire(),
    stop: dropListeners,
  });
  const consider = (doc: vscode.TextDocument) => candidate(doc) && void detection.consider(doc);
  const considerAll = () => vscode.workspace.textDocuments.forEach(consider);
  ctx.registerDisposable(changed);
  ctx.registerDisposable({ dispose: dropListeners });
  listeners.push(
    vscode.workspace.onDidOpenTextDocument(consider),
    // A directive added and saved, or a rule or pairing that now applies.
    vscode.workspace.onDidSaveTextDocument(consider),
    vscode.workspace.onDidCloseTextDocument((doc) => detection.forget(doc)),
    vscode.workspace.onDidChangeConfiguration((e) => (e.affectsConfiguration('quals.pairs') || e.affectsConfiguration('quals.jsonlFields') || e.affectsConfiguration('quals.enabled')) && considerAll()),
    ctx.state.onDidChange(() => considerAll()),
    // A command may start the server without any file asking for it.
    ctx.onStatus(() => detection.stopIfStarted()),
  );
  considerAll();
  return { verdict: (uri) => detection.verdict(uri), onDidChange: changed.event };
}
