/**
 * Whole files written so that readers see the old file or the new one, never part of one: the
 * bytes go to a temporary file next to the target (same folder, so the rename cannot cross file
 * systems), are fsynced, and the temporary file is renamed onto the target; the folder is fsynced
 * so the rename survives a crash. A failed write removes its temporary file and leaves the target
 * as it was. Errors are the file system's own: callers word them for their users.
 *
 * The sync form is for commands that finish with a small file (reports, stats); the async form for
 * large files written while a server keeps answering (the with-past split of a model's decoder).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The bytes to write: text (UTF-8), or pieces written one after the other (never concatenated in memory). */
export type FileData = string | Uint8Array | readonly Uint8Array[];

let serial = 0;

/**
 * A hidden temporary name next to `path`, unique to this process and call: two writes of the same
 * target (two processes, or two async writes in one) never share a temporary file.
 */
export function tempPathFor(path: string): string {
  // Random bytes too: processes in different containers (or hosts) sharing a cache can have the same pid.
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}-${(serial++).toString(36)}-${randomBytes(4).toString('hex')}`);
}

const piecesOf = (data: FileData): readonly Uint8Array[] => (typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data);

export function writeFileAtomicSync(path: string, data: FileData): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx'); // fails before anything is ours to remove
  try {
    try {
      for (const p of piecesOf(data)) {
        let off = 0;
        while (off < p.length) off += writeSync(fd, p, off, p.length - off);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}

export async function writeFileAtomic(path: string, data: FileData): Promise<void> {
  const tmp = tempPathFor(path);
  const file = await open(tmp, 'wx'); // fails before anything is ours to remove
  try {
    try {
      for (const p of piecesOf(data)) {
        let off = 0;
        while (off < p.length) off += (await file.write(p, off, p.length - off)).bytesWritten;
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Makes a rename into `dir` durable (best effort: some file systems refuse to fsync a folder). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // e.g. EINVAL/EISDIR on file systems without directory fsync
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
