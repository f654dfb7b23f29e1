/**
 * A lock file around one hub download, so two processes (two editor windows, the CLI next to the
 * editor, batch workers sharing a cache) never write the same staging folder at once: the second
 * waits, then finds the cache complete.
 *
 * The lock is a file created exclusively (`wx`) holding the owner's pid and host. Its owner touches
 * it every 15 s; a lock is taken over when its owner is a dead process on this host, or when
 * nobody has touched it for 60 s (an owner on another host sharing the cache folder).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { CancelledError, throwIfAborted } from '../scoring/errors';

export interface DownloadLockOptions {
  signal?: AbortSignal;
  /** Told once when this process starts waiting for another one. */
  onWait?: (owner: LockOwner) => void;
}

/** How often a waiting process looks again. */
const POLL_MS = 500;
/** A lock untouched this long is abandoned; its owner touches it four times as often. */
const STALE_MS = 60_000;

export interface LockOwner {
  pid: number;
  host: string;
  /** Tells this acquisition from a later one by the same process. */
  token: string;
}

/** Given to the locked function: long synchronous work (an import writing a graph) blocks the heartbeat timer, so it calls this now and then. */
export interface HeldLock {
  /** Marks the lock as alive; cheap, call it as often as convenient (it touches the file at most every few seconds). */
  keepAlive(): void;
}

/** Runs `fn` while holding the lock file `lockPath`; waits while another live process holds it. */
export async function withDownloadLock<T>(lockPath: string, fn: (lock: HeldLock) => Promise<T>, options: DownloadLockOptions = {}): Promise<T> {
  const me: LockOwner = { pid: process.pid, host: os.hostname(), token: randomUUID() };
  let told = false;
  for (;;) {
    throwIfAborted(options.signal);
    if (tryCreate(lockPath, me)) break;
    const owner = readOwner(lockPath);
    if (isAbandoned(lockPath, owner)) {
      // Remove only the lock judged abandoned, not one a faster peer has just created in its place.
      if (readOwner(lockPath)?.token === owner?.token) fs.rmSync(lockPath, { force: true });
      continue;
    }
    if (!told && owner) {
      told = true;
      options.onWait?.(owner);
    }
    await sleep(POLL_MS, options.signal);
  }
  const heartbeat = setInterval(() => touch(lockPath), STALE_MS / 4);
  heartbeat.unref();
  let touched = Date.now();
  const held: HeldLock = {
    keepAlive() {
      if (Date.now() - touched < STALE_MS / 12) return;
      touched = Date.now();
      touch(lockPath);
    },
  };
  try {
    return await fn(held);
  } finally {
    clearInterval(heartbeat);
    // Only remove our own lock: a peer that judged it abandoned may have replaced it.
    if (readOwner(lockPath)?.token === me.token) fs.rmSync(lockPath, { force: true });
  }
}

/** Waits `ms`; rejects with CancelledError as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function tryCreate(lockPath: string, me: LockOwner): boolean {
  try {
    fs.writeFileSync(lockPath, JSON.stringify(me), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function readOwner(lockPath: string): LockOwner | null {
  try {
    const v = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string' ? { pid: v.pid, host: v.host, token: v.token } : null;
  } catch {
    return null; // gone, or caught between create and write: looked at again on the next poll
  }
}

function isAbandoned(lockPath: string, owner: LockOwner | null): boolean {
  if (owner && owner.host === os.hostname() && !isAlive(owner.pid)) return true;
  try {
    return Date.now() - fs.statSync(lockPath).mtimeMs > STALE_MS;
  } catch {
    return false; // released meanwhile: the next attempt creates it
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

function touch(lockPath: string): void {
  const now = new Date();
  try {
    fs.utimesSync(lockPath, now, now);
  } catch {
    // Taken over or removed: the owner finds out when it releases.
  }
}
