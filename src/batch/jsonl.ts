/**
 * JSONL input and output for batch runs: a streaming line reader (constant memory), an appender
 * that writes each record as one complete line in one write, and the resume scan that drops a torn
 * last line left by a crash.
 */
import { createReadStream, closeSync, fstatSync, fsyncSync, openSync, readSync, ftruncateSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** One physical input line; `lineNo` counts from 1 and includes blank lines. */
export interface InputLine {
  lineNo: number;
  text: string;
}

/** Streams the lines of a file (or stdin for `-`), one at a time, without holding the file. */
export async function* readLines(path: string): AsyncGenerator<InputLine> {
  const stream: Readable = path === '-' ? process.stdin : createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      yield { lineNo, text: lineNo === 1 ? stripBom(raw) : raw };
    }
  } finally {
    rl.close();
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
  private constructor(private fd: number | null) {}

  /** Opens for appending; `truncate` starts the file empty. */
  static open(path: string, truncate = false): LineAppender {
    return new LineAppender(openSync(path, truncate ? 'w' : 'a'));
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
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }

  /** Flushes to disk and closes; safe to call twice. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
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
