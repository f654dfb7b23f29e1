/**
 * JSONL input and output for batch runs: a streaming line reader (constant memory), an appender
 * that writes each record as one complete line in one write, and the resume scan that drops a torn
 * last line left by a crash.
 */
import { createReadStream, closeSync, fstatSync, fsyncSync, openSync, readSync, ftruncateSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { outputError } from './output-files';

/** One physical input line; `lineNo` counts from 1 and includes blank lines. */
export interface InputLine {
  lineNo: number;
  text: string;
  /** The line's bytes are not valid UTF-8 (`text` then holds them decoded with U+FFFD). */
  notUtf8?: true;
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

function decodeLine(lineNo: number, bytes: Buffer): InputLine {
  // A CRLF file's lines end in \r: drop it, as readline did.
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  const body = bytes.subarray(0, end);
  let text: string;
  let notUtf8 = false;
  try {
    text = strict.decode(body);
  } catch {
    text = lossy.decode(body);
    notUtf8 = true;
  }
  if (lineNo === 1) text = stripBom(text);
  return notUtf8 ? { lineNo, text, notUtf8: true } : { lineNo, text };
}

/**
 * Streams the lines of a file (or stdin for `-`), one at a time, without holding the file. Lines
 * end at \n (like countLines); each is decoded strictly, so a line that is not UTF-8 is marked
 * instead of silently turned into U+FFFD.
 */
export async function* readLines(path: string): AsyncGenerator<InputLine> {
  const stream: Readable = path === '-' ? process.stdin : createReadStream(path);
  let lineNo = 0;
  let pending: Buffer[] = [];
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      let from = 0;
      for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
        const piece = buf.subarray(from, nl);
        const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
        pending = [];
        yield decodeLine(++lineNo, line);
        from = nl + 1;
      }
      if (from < buf.length) pending.push(buf.subarray(from));
    }
    if (pending.length) yield decodeLine(++lineNo, Buffer.concat(pending));
  } finally {
    if (path !== '-') stream.destroy();
  }
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/**
 * Counts lines the way readLines does (a final line without a newline counts; a final newline
 * does not start another line), reading raw bytes so that it is fast and memory-flat.
 */
export function countLines(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    let last = -1;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let i = buf.indexOf(10, 0); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
      last = buf[n - 1]!;
    }
    return last === -1 || last === 10 ? lines : lines + 1;
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends records to a file, each as one complete line written with one write call, so a crash
 * or Ctrl-C leaves at worst one torn final line (which {@link dropTornTail} removes on resume).
 */
export class LineAppender {
  private constructor(
    private fd: number | null,
    private readonly path: string,
    /** Bytes in the file after the last complete line. */
    private size: number,
  ) {}

  /** Opens for appending; `truncate` starts the file empty. A file-system error is an OutputError. */
  static open(path: string, truncate = false, shownAs = path): LineAppender {
    let fd: number;
    try {
      fd = openSync(path, truncate ? 'w' : 'a');
    } catch (e) {
      throw outputError(shownAs, e);
    }
    try {
      return new LineAppender(fd, shownAs, fstatSync(fd).size);
    } catch (e) {
      closeSync(fd);
      throw outputError(shownAs, e);
    }
  }

  append(record: unknown): void {
    this.appendLine(JSON.stringify(record));
  }

  /** Appends text that is already one JSON line (no newline inside). */
  appendLine(text: string): void {
    if (this.fd === null) throw new Error('LineAppender is closed');
    const buf = Buffer.from(text + '\n', 'utf8');
    // A regular file takes the whole buffer in one write; the loop only guards short writes.
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch (e) {
      // Disk full halfway through a line: cut the torn part off so the file stays resumable.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the resume scan drops a torn tail anyway
      }
      throw outputError(this.path, e);
    }
    this.size += buf.length;
  }

  /** Flushes to disk and closes; safe to call twice. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
    } catch (e) {
      // A pipe or terminal (--out /dev/stdout) cannot be fsynced; anything else is a real failure.
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw outputError(this.path, e);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Truncates `path` after its last newline so that a partially written final line disappears.
 * Returns the number of bytes dropped (0 when the file ends cleanly).
 */
export function dropTornTail(path: string): number {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, n).lastIndexOf(10);
      if (i !== -1) {
        const keep = start + i + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}
