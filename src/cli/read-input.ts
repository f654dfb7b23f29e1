/**
 * Reads a text file a user named, refusing what cannot be a text (missing, unreadable, empty,
 * binary, not UTF-8, oversized) with a one-line message instead of a stack trace.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { InputError } from '../scoring/errors';
import { MAX_TEXT_CHARS } from '../scoring/quals';

const MAX_BYTES = MAX_TEXT_CHARS * 4;

export function readTextFile(path: string, role: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError('unreadable', `The ${role} file ${path} is a folder, not a file.`);
    // A FIFO or device has no size and may never end (/dev/zero): read only regular files.
    if (!st.isFile()) throw new InputError('unreadable', `The ${role} file ${path} is not a regular file (a pipe or device); save it to a file, or pass - to read it from stdin.`);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('missing', `The ${role} file ${path} does not exist.`);
    throw new InputError('unreadable', `The ${role} file ${path} cannot be read (${code ?? String(e)}).`);
  }
  if (size > MAX_BYTES) throw new InputError('too-large', `The ${role} file ${path} is ${(size / 1e6).toFixed(1)} MB; the limit is ${MAX_BYTES / 1e6} MB.`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError('unreadable', `The ${role} file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`);
  }
  return decodeText(bytes, `The ${role} file ${path}`);
}

/** UTF-8 text of bytes (a BOM is dropped), or an InputError naming `what`. */
export function decodeText(bytes: Uint8Array, what: string): string {
  if (bytes.includes(0)) throw new InputError('binary', `${what} looks binary (it contains NUL bytes); give a plain-text file.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError('encoding', `${what} is not valid UTF-8; convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8).`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim().length === 0) throw new InputError('empty', `${what} is empty.`);
  if (text.length > MAX_TEXT_CHARS) throw new InputError('too-large', `${what} has ${text.length} characters; the limit is ${MAX_TEXT_CHARS}.`);
  return text;
}

/** Reads stdin (`-`) as text, stopping with an InputError once it passes the size limit. */
export async function readStdinText(role: string, stream: Readable = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_BYTES) {
      stream.destroy();
      throw new InputError('too-large', `The ${role} from stdin is over ${MAX_BYTES / 1e6} MB.`);
    }
    chunks.push(b);
  }
  return decodeText(Buffer.concat(chunks), `The ${role} from stdin`);
}
