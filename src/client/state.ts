/**
 * The only code touching workspaceState: remembered pairings, ignored findings and files the
 * user disabled QUALS for. Every change is mirrored to the server as one `quals/workspaceState`.
 * Ignored findings of files inside a workspace folder live in the shareable setting
 * `quals.ignoredFindings` (the folder's .vscode/settings.json, like LTeX+'s hiddenFalsePositives);
 * other files' stay in workspaceState.
 */
import * as vscode from 'vscode';
import type { IgnoredFinding, RememberedPairs, WorkspaceStateParams } from '../protocol';

const KEY = 'quals.workspaceState.v1';
const SHARED = 'ignoredFindings';

/** One entry of `quals.ignoredFindings`: the file relative to its workspace folder. */
export interface SharedIgnore {
  file: string;
  question: string;
  answer: string;
}

function isSharedIgnore(v: unknown): v is SharedIgnore {
  const f = v as Partial<SharedIgnore> | null;
  return !!f && typeof f.file === 'string' && typeof f.question === 'string' && typeof f.answer === 'string';
}

/** The ignored findings shared through the settings of every workspace folder. */
function sharedIgnored(): IgnoredFinding[] {
  return (vscode.workspace.workspaceFolders ?? []).flatMap((folder) => {
    const entries = vscode.workspace.getConfiguration('quals', folder.uri).get<unknown[]>(SHARED, []);
    return (Array.isArray(entries) ? entries : []).filter(isSharedIgnore).map((e) => ({
      uri: vscode.Uri.joinPath(folder.uri, ...e.file.split('/')).toString(),
      question: e.question,
      answer: e.answer,
    }));
  });
}

/** The workspace folder holding a file and the file's path in it, if any. */
function inFolder(uri: string): { folder: vscode.WorkspaceFolder; file: string } | undefined {
  const u = vscode.Uri.parse(uri);
  const folder = vscode.workspace.getWorkspaceFolder(u);
  if (!folder) return undefined;
  const base = folder.uri.path.endsWith('/') ? folder.uri.path : `${folder.uri.path}/`;
  return u.path.startsWith(base) ? { folder, file: u.path.slice(base.length) } : undefined;
}

export class PersistentState {
  private readonly changed = new vscode.EventEmitter<WorkspaceStateParams>();
  /** Fires after every change with the full new state. */
  readonly onDidChange = this.changed.event;
  private readonly configListener: vscode.Disposable;

  constructor(private readonly memento: vscode.Memento) {
    this.configListener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`quals.${SHARED}`)) this.changed.fire(this.value);
    });
  }

  /** What workspaceState holds. */
  private get stored(): WorkspaceStateParams {
    const v = this.memento.get<Partial<WorkspaceStateParams>>(KEY) ?? {};
    return { pairs: v.pairs ?? {}, ignored: v.ignored ?? [], disabled: v.disabled ?? [] };
  }

  /** The full state: workspaceState plus the shared ignored findings. */
  get value(): WorkspaceStateParams {
    const s = this.stored;
    const ignored = [...s.ignored];
    for (const f of sharedIgnored()) if (!ignored.some((g) => sameFinding(f, g))) ignored.push(f);
    return { ...s, ignored };
  }

  private async update(change: (s: WorkspaceStateParams) => WorkspaceStateParams): Promise<void> {
    await this.memento.update(KEY, change(this.stored));
    this.changed.fire(this.value);
  }

  /** Rewrites one folder's `quals.ignoredFindings` (the configuration listener then fires). */
  private async updateShared(folder: vscode.WorkspaceFolder, change: (entries: SharedIgnore[]) => SharedIgnore[]): Promise<void> {
    const config = vscode.workspace.getConfiguration('quals', folder.uri);
    const current = config.inspect<unknown[]>(SHARED)?.workspaceFolderValue;
    const entries = (Array.isArray(current) ? current : []).filter(isSharedIgnore);
    await config.update(SHARED, change(entries), vscode.ConfigurationTarget.WorkspaceFolder);
  }

  pair(summaryUri: string, sourceUri: string): Promise<void> {
    return this.update((s) => ({ ...s, pairs: { ...s.pairs, [summaryUri]: sourceUri } }));
  }

  unpair(summaryUri: string): Promise<void> {
    return this.update((s) => {
      const pairs: RememberedPairs = { ...s.pairs };
      delete pairs[summaryUri];
      return { ...s, pairs };
    });
  }

  ignore(finding: IgnoredFinding): Promise<void> {
    const at = inFolder(finding.uri);
    if (!at) return this.update((s) => ({ ...s, ignored: [...s.ignored.filter((f) => !sameFinding(f, finding)), finding] }));
    const entry: SharedIgnore = { file: at.file, question: finding.question, answer: finding.answer };
    return this.updateShared(at.folder, (entries) => [...entries.filter((e) => !sameShared(e, entry)), entry]);
  }

  async unignore(finding: IgnoredFinding): Promise<void> {
    const at = inFolder(finding.uri);
    if (at) {
      const entry: SharedIgnore = { file: at.file, question: finding.question, answer: finding.answer };
      await this.updateShared(at.folder, (entries) => entries.filter((e) => !sameShared(e, entry)));
    }
    await this.update((s) => ({ ...s, ignored: s.ignored.filter((f) => !sameFinding(f, finding)) }));
  }

  setDisabled(uri: string, disabled: boolean): Promise<void> {
    return this.update((s) => ({ ...s, disabled: disabled ? [...new Set([...s.disabled, uri])] : s.disabled.filter((u) => u !== uri) }));
  }

  dispose(): void {
    this.configListener.dispose();
    this.changed.dispose();
  }
}

function sameShared(a: SharedIgnore, b: SharedIgnore): boolean {
  return a.file === b.file && a.question === b.question && a.answer === b.answer;
}

function sameFinding(a: IgnoredFinding, b: IgnoredFinding): boolean {
  return a.uri === b.uri && a.question === b.question && a.answer === b.answer;
}

/** Validates a command argument that claims to be a finding (code actions pass JSON through). */
export function isIgnoredFinding(v: unknown): v is IgnoredFinding {
  const f = v as Partial<IgnoredFinding> | null;
  return !!f && typeof f.uri === 'string' && typeof f.question === 'string' && typeof f.answer === 'string';
}
