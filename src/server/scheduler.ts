/**
 * Check scheduling: at most one pending or running check per document key, debounced, run one
 * at a time (inference saturates the CPU, so parallel checks would only slow each other down).
 * Scheduling a key again aborts its previous check through its AbortSignal: stale work is dropped.
 */
import { CancelledError } from '../scoring/errors';

/** `supersededBy`: the newer check of the same key that replaced this one (follow it to get its result). */
export type JobOutcome<T> = { cancelled: true; supersededBy?: Promise<JobOutcome<T>> } | { cancelled: false; value: T };

interface Entry<T> {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
  supersededBy?: Promise<JobOutcome<T>>;
}

export interface Timers {
  set(fn: () => void, ms: number): ReturnType<typeof setTimeout>;
  clear(handle: ReturnType<typeof setTimeout>): void;
}

const realTimers: Timers = { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h) };

export class Scheduler<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly timers: Timers = realTimers) {}

  /**
   * Runs `job` for `key` after `delayMs`, once earlier jobs finished. Resolves `{cancelled: true}`
   * when the job is superseded or cancelled (before or while running); rejects with the job's
   * own error otherwise. `signal` links an outside cancellation (e.g. an LSP request token).
   */
  schedule(key: string, delayMs: number, job: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<JobOutcome<T>> {
    const previous = this.entries.get(key);
    const controller = new AbortController();
    if (signal) {
      if (signal.aborted) controller.abort();
      else signal.addEventListener('abort', () => controller.abort(), { once: true });
    }
    const entry: Entry<T> = { controller, timer: undefined };
    this.entries.set(key, entry);
    const cleanup = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    const cancelled = (): JobOutcome<T> => (entry.supersededBy ? { cancelled: true, supersededBy: entry.supersededBy } : { cancelled: true });
    const promise = new Promise<JobOutcome<T>>((resolve, reject) => {
      // Cancellation answers at once in every state; a running job's late result is discarded.
      const onAbort = () => {
        if (entry.timer !== undefined) this.timers.clear(entry.timer);
        entry.timer = undefined;
        cleanup();
        resolve(cancelled());
      };
      controller.signal.addEventListener('abort', onAbort, { once: true });
      const enqueue = () => {
        entry.timer = undefined;
        const run = this.queue.then(async (): Promise<JobOutcome<T>> => {
          if (controller.signal.aborted) return cancelled();
          return { cancelled: false, value: await job(controller.signal) };
        });
        // The queue must keep going whatever this job does.
        this.queue = run.catch(() => undefined);
        run.then(
          (outcome) => {
            cleanup();
            resolve(controller.signal.aborted ? cancelled() : outcome);
          },
          (error: unknown) => {
            cleanup();
            if (error instanceof CancelledError || controller.signal.aborted) resolve(cancelled());
            else reject(error);
          },
        );
      };
      if (controller.signal.aborted) onAbort();
      else if (delayMs > 0) entry.timer = this.timers.set(enqueue, delayMs);
      else enqueue();
    });
    if (previous) {
      previous.supersededBy = promise;
      previous.controller.abort();
    }
    return promise;
  }

  /** Aborts the pending or running check of `key`, if any. */
  cancel(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.controller.abort();
  }

  /** True while `key` has a pending or running check. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  cancelAll(): void {
    for (const key of [...this.entries.keys()]) this.cancel(key);
  }
}
