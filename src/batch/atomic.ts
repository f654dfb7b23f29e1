/**
 * Whole-file outputs (merged shards, ConSeq sets, reports) are written to a temporary file next to
 * the target and renamed into place, so readers never see a half-written file.
 */
import { renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir, tempPathFor, writeFileAtomicSync } from '../util/atomic-write';
import { LineAppender } from './jsonl';
import { outputError } from './output-files';

/** A JSONL file that appears at `path` only on commit(). */
export class AtomicJsonl {
  private readonly tmp: string;
  private readonly out: LineAppender;
  private settled = false;

  constructor(readonly path: string) {
    this.tmp = tempPathFor(path);
    this.out = LineAppender.open(this.tmp, true, path);
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
    try {
      this.out.close(); // fsyncs the data before the rename makes it visible
      renameSync(this.tmp, this.path);
    } catch (e) {
      rmSync(this.tmp, { force: true });
      throw outputError(this.path, e);
    }
    fsyncDir(dirname(this.path));
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

/** Writes `text` atomically (src/util/atomic-write.ts); a failure is a one-line OutputError. */
export function writeFileAtomic(path: string, text: string): void {
  try {
    writeFileAtomicSync(path, text);
  } catch (e) {
    throw outputError(path, e);
  }
}
