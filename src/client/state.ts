/**
 * The only code touching workspaceState: remembered pairings, ignored findings and files the
 * user disabled QUALS for. Every change is mirrored to the server as one `quals/workspaceState`.
 */
import * as vscode from 'vscode';
import type { IgnoredFinding, RememberedPairs, WorkspaceStateParams } from '../protocol';

const KEY = 'quals.workspaceState.v1';

export class PersistentState {
  private readonly changed = new vscode.EventEmitter<WorkspaceStateParams>();
  /** Fires after every change with the full new state. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly memento: vscode.Memento) {}

  get value(): WorkspaceStateParams {
    const v = this.memento.get<Partial<WorkspaceStateParams>>(KEY) ?? {};
    return { pairs: v.pairs ?? {}, ignored: v.ignored ?? [], disabled: v.disabled ?? [] };
  }

  private async update(change: (s: WorkspaceStateParams) => WorkspaceStateParams): Promise<void> {
    const next = change(this.value);
    await this.memento.update(KEY, next);
    this.changed.fire(next);
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
    return this.update((s) => ({ ...s, ignored: [...s.ignored.filter((f) => !sameFinding(f, finding)), finding] }));
  }

  unignore(finding: IgnoredFinding): Promise<void> {
    return this.update((s) => ({ ...s, ignored: s.ignored.filter((f) => !sameFinding(f, finding)) }));
  }

  setDisabled(uri: string, disabled: boolean): Promise<void> {
    return this.update((s) => ({ ...s, disabled: disabled ? [...new Set([...s.disabled, uri])] : s.disabled.filter((u) => u !== uri) }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function sameFinding(a: IgnoredFinding, b: IgnoredFinding): boolean {
  return a.uri === b.uri && a.question === b.question && a.answer === b.answer;
}

/** Validates a command argument that claims to be a finding (code actions pass JSON through). */
export function isIgnoredFinding(v: unknown): v is IgnoredFinding {
  const f = v as Partial<IgnoredFinding> | null;
  return !!f && typeof f.uri === 'string' && typeof f.question === 'string' && typeof f.answer === 'string';
}
