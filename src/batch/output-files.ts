/**
 * Output safety shared by every command that writes files: an output that is one of the inputs
 * (same path, a link to it, or the same inode) is refused before anything is opened for writing,
 * and file-system errors on outputs become one-line messages (exit 2) instead of stack traces.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** An output that cannot be written (missing folder, a folder, disk full, same as an input): exit 2. */
export class OutputError extends Error {
  override name = 'OutputError';
}

const REASONS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EFBIG: 'the file is too large for the file system',
  EIO: 'an input/output error',
};

/** A one-line OutputError for a file-system error on `path`. */
export function outputError(path: string, e: unknown, doing = 'write'): OutputError {
  if (e instanceof OutputError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const why = (code && REASONS[code]) ?? (e instanceof Error ? e.message : String(e));
  return new OutputError(`cannot ${doing} ${path}: ${why}${code ? ` (${code})` : ''}.`);
}

interface Identity {
  real: string;
  dev?: number;
  ino?: number;
}

function identity(path: string): Identity {
  const abs = resolve(path);
  try {
    const st = statSync(abs);
    return { real: realpathSync(abs), dev: st.dev, ino: st.ino };
  } catch {
    // Not there yet: compare by the real path of its folder + its name.
    try {
      return { real: join(realpathSync(dirname(abs)), basename(abs)) };
    } catch {
      return { real: abs };
    }
  }
}

function same(a: Identity, b: Identity): boolean {
  if (a.ino !== undefined && b.ino !== undefined) return a.dev === b.dev && a.ino === b.ino;
  return a.real === b.real;
}

/**
 * Throws OutputError when an output names the same file as an input or as another output.
 * `-` (stdin/stdout) is never compared. Call it before any output is opened.
 */
export function assertOutputsAreNotInputs(inputs: readonly string[], outputs: readonly string[]): void {
  const ins = inputs.filter((p) => p !== '-').map((p) => ({ p, id: identity(p) }));
  const outs = outputs.filter((p) => p !== '-').map((p) => ({ p, id: identity(p) }));
  for (const [k, o] of outs.entries()) {
    const input = ins.find((i) => same(i.id, o.id));
    if (input) throw new OutputError(`the output ${o.p} is the input ${input.p}; writing it would destroy the input. Name another output file.`);
    const other = outs.slice(0, k).find((x) => same(x.id, o.id));
    if (other) throw new OutputError(`two outputs name the same file (${other.p} and ${o.p}).`);
  }
}
