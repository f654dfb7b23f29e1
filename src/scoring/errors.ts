/**
 * Errors that reach users. Each carries a stable `code` that front ends map to exit codes,
 * notifications or diagnostics; messages are one line, written for users, and name the file or
 * setting involved.
 */

export type ModelErrorCode =
  | 'not-found' // folder or hub id does not exist
  | 'missing-file' // a required file is absent
  | 'invalid-file' // a file exists but cannot be parsed / has the wrong content
  | 'format' // unknown or mismatched model format
  | 'offline' // hub download impossible
  | 'download' // hub download failed (HTTP error, integrity check)
  | 'provider' // execution provider unavailable
  | 'runtime'; // ONNX Runtime failed while running the model

export class ModelError extends Error {
  override name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type InputErrorCode = 'missing' | 'empty' | 'binary' | 'encoding' | 'too-large' | 'unreadable';

/** A source or summary text that cannot be scored. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown when a caller's AbortSignal fires; front ends treat it as "stale work dropped". */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('The check was cancelled.');
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
