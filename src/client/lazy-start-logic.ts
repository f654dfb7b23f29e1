/**
 * The lazy start's decisions without `vscode` (./lazy-start.ts wires them to the editor's events),
 * so the unit tests drive them. Detection only matters until the server runs: from then on the
 * server's own statuses say which files it checks, so it stops reading documents for good.
 */
export interface DetectionDeps<Doc> {
  key(doc: Doc): string;
  isClosed(doc: Doc): boolean;
  /** Whether QUALS would check the file (./summary-detect.ts): reads it and looks for sources. */
  check(doc: Doc): Promise<boolean>;
  /** True once the server was started, by this detection or by a command. */
  started(): boolean;
  start(because: Doc): void;
  /** A verdict changed. */
  changed(): void;
  /** Detection is over: drop the editor listeners. */
  stop(): void;
}

export class Detection<Doc> {
  private readonly verdicts = new Map<string, boolean>();
  private stopped = false;

  constructor(private readonly deps: DetectionDeps<Doc>) {}

  /** The last verdict for a file (undefined: not looked at). Kept as it was once detection stopped. */
  verdict(key: string): boolean | undefined {
    return this.verdicts.get(key);
  }

  /** Looks at a file unless the server already runs; starts the server if QUALS checks it. */
  async consider(doc: Doc): Promise<void> {
    if (this.stopIfStarted()) return;
    const checked = await this.deps.check(doc).catch(() => false);
    if (this.deps.isClosed(doc)) return;
    const key = this.deps.key(doc);
    // A verdict read just as the server started still holds until the server's status arrives.
    if (this.verdicts.get(key) !== checked) {
      this.verdicts.set(key, checked);
      this.deps.changed();
    }
    if (checked && !this.deps.started()) this.deps.start(doc);
    this.stopIfStarted();
  }

  forget(doc: Doc): void {
    this.verdicts.delete(this.deps.key(doc));
  }

  /** Stops detection once the server was started; true when it is stopped. */
  stopIfStarted(): boolean {
    if (!this.stopped && this.deps.started()) {
      this.stopped = true;
      this.deps.stop();
    }
    return this.stopped;
  }
}
