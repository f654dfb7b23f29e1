/** Streaming checksums of files on disk (hub downloads verify with them; imports record them). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export type ChecksumKind = 'sha256' | 'git-sha1';

/**
 * The file's sha256, or its git blob sha1 (`sha1("blob {size}\0" + content)`, what the hub reports
 * for files that are not in LFS). `onBytes` is told the running byte count.
 */
export async function hashFile(p: string, kind: ChecksumKind, size: number, signal?: AbortSignal, onBytes?: (done: number) => void): Promise<string> {
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') hash.update(`blob ${size}\0`);
  let done = 0;
  for await (const chunk of fs.createReadStream(p, { signal, highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onBytes?.(done);
  }
  return hash.digest('hex');
}
