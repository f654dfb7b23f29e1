/**
 * Messages between a batch run and its worker processes (Node IPC). Errors cross the process
 * boundary as plain data and are rebuilt as the same error classes, so the batch loop treats a
 * worker's InputError exactly like an in-process one.
 */
import { CancelledError, InputError, ModelError, type InputErrorCode, type ModelErrorCode } from '../scoring/errors';
import type { QualsResult } from '../scoring/result';

export interface WireError {
  name: string;
  code?: string;
  message: string;
}

/** Parent -> worker. `init` carries whatever the worker needs to build its scorer (JSON only). */
export type ToWorker = { type: 'init'; init: unknown } | { type: 'score'; seq: number; source: string; summary: string };

/** Worker -> parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: WireError }
  | { type: 'result'; seq: number; result: QualsResult }
  | { type: 'error'; seq: number; error: WireError };

export function toWire(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

export function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'InputError':
      return new InputError(w.code as InputErrorCode, w.message);
    case 'ModelError':
      return new ModelError(w.code as ModelErrorCode, w.message);
    case 'CancelledError':
      return new CancelledError();
    default: {
      const e = new Error(w.message);
      e.name = w.name;
      return e;
    }
  }
}

/** A worker process died mid-run; the batch stops (rerun with --resume) rather than guess. */
export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
}
