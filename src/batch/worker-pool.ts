/**
 * K model processes on one machine: each worker loads the model once and scores one pair at a
 * time; the pool hands each task to an idle worker. ONNX Runtime calls block their thread, so
 * processes (not promises) are what turn extra cores into throughput.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { CancelledError } from '../scoring/errors';
import type { QualsResult } from '../scoring/result';
import { fromWire, WorkerCrashError, type FromWorker, type ToWorker } from './worker-protocol';

export interface WorkerPoolOptions {
  size: number;
  /** The script to fork (the CLI bundle) and the arguments that select the worker command. */
  script: string;
  args: string[];
  /** Node flags for the workers (default: this process's, so `--import tsx` carries over). */
  execArgv?: string[];
  /** Sent to every worker to build its scorer (JSON only). */
  init: unknown;
  env?: NodeJS.ProcessEnv;
}

interface Pending {
  seq: number;
  source: string;
  summary: string;
  resolve: (r: QualsResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  child: ChildProcess;
  task: Pending | null;
  alive: boolean;
}

export class WorkerPool {
  private readonly queue: Pending[] = [];
  private seq = 0;
  private closing = false;

  private constructor(private readonly slots: Slot[]) {}

  /** Forks the workers and waits until every one has loaded its model (or one fails to). */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < opts.size; i++) {
      const child = fork(opts.script, opts.args, {
        execArgv: opts.execArgv ?? process.execArgv,
        env: opts.env ?? process.env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
      slots.push({ child, task: null, alive: true });
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: FromWorker) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'init-error') reject(fromWire(m.error));
            else return;
            child.off('message', onMsg);
          };
          child.on('message', onMsg);
          child.once('exit', (code, sig) => reject(new WorkerCrashError(`worker ${i + 1} exited while loading the model (${sig ?? `code ${code}`})`)));
          child.once('error', (e) => reject(new WorkerCrashError(`worker ${i + 1} could not start: ${e.message}`)));
        }),
      );
      child.send({ type: 'init', init: opts.init } satisfies ToWorker);
    }
    const pool = new WorkerPool(slots);
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    slots.forEach((slot, i) => pool.attach(slot, i));
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Scores one pair on the next idle worker. */
  score = (source: string, summary: string, signal?: AbortSignal): Promise<QualsResult> =>
    new Promise<QualsResult>((resolve, reject) => {
      if (signal?.aborted) return reject(new CancelledError());
      // The abort listener holds the task (and so its source text): it must go when the task
      // settles, or one long-lived signal collects every document of the run.
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const task: Pending = {
        seq: ++this.seq,
        source,
        summary,
        resolve: (r) => (settle(), resolve(r)),
        reject: (e) => (settle(), reject(e)),
      };
      // A worker cannot be interrupted mid-pair; the caller closes the pool after a cancel.
      const onAbort = () => {
        const i = this.queue.indexOf(task);
        if (i !== -1) this.queue.splice(i, 1);
        task.reject(new CancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });

  /** Stops the workers: a graceful disconnect first, then a kill for any that hang. */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.queue.splice(0)) t.reject(new CancelledError());
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.child.exitCode !== null || slot.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => slot.child.kill('SIGKILL'), slot.task ? 0 : 5000);
            slot.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (slot.child.connected) slot.child.disconnect();
            else slot.child.kill();
          }),
      ),
    );
  }

  private attach(slot: Slot, i: number): void {
    slot.child.on('message', (m: FromWorker) => {
      const t = slot.task;
      if (!t || (m.type !== 'result' && m.type !== 'error') || m.seq !== t.seq) return;
      slot.task = null;
      if (m.type === 'result') t.resolve(m.result);
      else t.reject(fromWire(m.error));
      this.dispatch();
    });
    slot.child.on('exit', (code, sig) => {
      slot.alive = false;
      if (this.closing) return;
      const err = new WorkerCrashError(`worker ${i + 1} exited unexpectedly (${sig ?? `code ${code}`}); rerun with --resume to continue`);
      slot.task?.reject(err);
      slot.task = null;
      if (!this.slots.some((s) => s.alive)) for (const t of this.queue.splice(0)) t.reject(err);
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.alive || slot.task) continue;
      const t = this.queue.shift();
      if (!t) return;
      slot.task = t;
      slot.child.send({ type: 'score', seq: t.seq, source: t.source, summary: t.summary } satisfies ToWorker);
    }
  }
}
