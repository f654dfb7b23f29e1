/**
 * Whole-file outputs (merged shards, ConSeq sets, reports) are written to a temporary file next to
 * the target and renamed into place, so readers never see a half-written file.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LineAppender } from './jsonl';
import { fsyncDir, outputError } from './output-files';

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

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

/** Writes `text` to a temporary file, fsyncs it, renames it onto `path` and fsyncs the folder. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const buf = Buffer.from(text, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw outputError(path, e);
  }
  fsyncDir(dirname(path));
}
