/**
 * Whole-file outputs (merged shards, ConSeq sets, reports) are written to a temporary file next to
 * the target and renamed into place, so readers never see a half-written file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LineAppender } from './jsonl';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

/** A JSONL file that appears at `path` only on commit(). */
export class AtomicJsonl {
  private readonly tmp: string;
  private readonly out: LineAppender;
  private settled = false;

  constructor(readonly path: string) {
    this.tmp = tempPathFor(path);
    this.out = LineAppender.open(this.tmp, true);
  }

  append(record: unknown): void {
    this.out.append(record);
  }

  appendLine(text: string): void {
    this.out.appendLine(text);
  }

  commit(): void {
    if (this.settled) return;
    this.settled = true;
    this.out.close();
    renameSync(this.tmp, this.path);
  }

  /** Drops the temporary file; the target is left as it was. */
  abort(): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.out.close();
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
