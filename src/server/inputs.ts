/**
 * Reading texts the editor does not hold open: missing, binary, huge or non-UTF-8 files become an
 * InputError with a one-line message (shown as the document's status), never a crash.
 */
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../scoring/errors';

/** Files above this size are refused before reading (the model reads a few thousand tokens at most). */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

/** Checks a text the editor or the disk gave us: empty texts cannot be scored. */
export function checkText(text: string, label: string): string {
  if (text.trim() === '') throw new InputError('empty', `${label} is empty.`);
  if (text.includes('\u0000')) throw new InputError('binary', `${label} looks like a binary file.`);
  return text;
}

/** Reads a UTF-8 text file for scoring. */
export async function readTextFile(path: string, label: string): Promise<string> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new InputError('unreadable', `${label} is not a file: ${path}`);
    size = s.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('missing', `${label} does not exist: ${path}`);
    throw new InputError('unreadable', `${label} cannot be read (${code ?? String(e)}): ${path}`);
  }
  if (size > MAX_FILE_BYTES) {
    throw new InputError('too-large', `${label} is too large to check (${(size / 1048576).toFixed(0)} MB): ${path}`);
  }
  const bytes = await readFile(path);
  if (bytes.subarray(0, 8192).includes(0)) throw new InputError('binary', `${label} looks like a binary file: ${path}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError('encoding', `${label} is not valid UTF-8: ${path}`);
  }
  return checkText(text.replace(/^\uFEFF/, ''), label);
}
