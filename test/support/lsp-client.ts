/** A minimal LSP client over a child's stdio for tests: records every message and its byte size. */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Message {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

export class LspClient {
  private buffer: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  readonly received: { msg: Message; bytes: number; at: number }[] = [];

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      for (;;) {
        const header = this.buffer.indexOf('\r\n\r\n');
        if (header < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, header).toString())![1]);
        if (this.buffer.length < header + 4 + length) return;
        const msg = JSON.parse(this.buffer.subarray(header + 4, header + 4 + length).toString()) as Message;
        this.buffer = this.buffer.subarray(header + 4 + length);
        this.received.push({ msg, bytes: length, at: performance.now() });
        if (msg.id !== undefined && msg.method) this.send({ id: msg.id, result: null });
        for (const w of [...this.waiters]) if (w.match(msg)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    });
  }

  send(msg: object): void {
    const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
    this.proc.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  request(method: string, params?: unknown): Promise<Message> {
    const id = this.nextId++;
    this.send({ id, method, ...(params === undefined ? {} : { params }) });
    return this.waitFor((m) => m.id === id && !m.method);
  }

  /** Resolves with the first matching message received from now on. */
  next(match: (m: Message) => boolean, ms = 120_000): Promise<Message> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('timed out waiting for a server message')), ms);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), res(m)) });
    });
  }

  waitFor(match: (m: Message) => boolean, ms = 120_000): Promise<Message> {
    const seen = this.received.find((r) => match(r.msg));
    return seen ? Promise.resolve(seen.msg) : this.next(match, ms);
  }
}
