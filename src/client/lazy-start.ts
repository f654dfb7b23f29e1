/**
 * The language server starts only when it has something to check: a paired summary or a JSONL
 * dataset with the configured fields is open (./summary-detect.ts), or a command needs it
 * (Ctx.ensureRunning). Opening a README activates the extension (cheap: commands, status items)
 * but starts no process. The verdicts also feed the context keys before the server has said anything.
 */
import * as vscode from 'vscode';
import type { Ctx } from './context';
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
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri;
  const base = folder ?? vscode.Uri.joinPath(doc.uri, '..');
  const prefix = base.path.endsWith('/') ? base.path : `${base.path}/`;
  const config = vscode.workspace.getConfiguration('quals', doc.uri);
  // QUALS turned off: nothing to check, so no server process for this file.
  if (config.get<boolean>('enabled', true) === false) return false;
  return isCheckedFile({
    path: doc.uri.path,
    relativePath: doc.uri.path.startsWith(prefix) ? doc.uri.path.slice(prefix.length) : doc.uri.path.split('/').pop()!,
    text: doc.getText(),
    pairs: config.get('pairs'),
    jsonlFields: config.get('jsonlFields'),
    remembered: ctx.state.value.pairs[doc.uri.toString()] !== undefined,
    exists: (rel) => exists(vscode.Uri.joinPath(base, ...rel.split('/'))),
  });
}

export function registerLazyStart(ctx: Ctx): Detector {
  const verdicts = new Map<string, boolean>();
  const changed = new vscode.EventEmitter<void>();
  const consider = async (doc: vscode.TextDocument) => {
    if (!candidate(doc)) return;
    const key = doc.uri.toString();
    const checked = await detect(ctx, doc).catch(() => false);
    if (doc.isClosed) return;
    if (verdicts.get(key) !== checked) {
      verdicts.set(key, checked);
      changed.fire();
    }
    if (checked && !ctx.started) {
      ctx.log.info(`starting the server: ${vscode.workspace.asRelativePath(doc.uri)} is checked by QUALS`);
      void ctx.ensureRunning();
    }
  };
  const considerAll = () => vscode.workspace.textDocuments.forEach((d) => void consider(d));
  ctx.registerDisposable(changed);
  ctx.registerDisposable(vscode.workspace.onDidOpenTextDocument((d) => void consider(d)));
  // A directive added and saved, or a rule or pairing that now applies.
  ctx.registerDisposable(vscode.workspace.onDidSaveTextDocument((d) => void consider(d)));
  ctx.registerDisposable(vscode.workspace.onDidCloseTextDocument((d) => verdicts.delete(d.uri.toString())));
  ctx.registerDisposable(vscode.workspace.onDidChangeConfiguration((e) => (e.affectsConfiguration('quals.pairs') || e.affectsConfiguration('quals.jsonlFields') || e.affectsConfiguration('quals.enabled')) && considerAll()));
  ctx.registerDisposable(ctx.state.onDidChange(() => considerAll()));
  considerAll();
  return { verdict: (uri) => verdicts.get(uri), onDidChange: changed.event };
}
