import { InputError, ModelError } from '../scoring/errors';
import { OptionsError } from '../scoring/options';
import { OutputError } from '../batch/output-files';

/** Exit codes of every `quals` command. */
export const EXIT = { ok: 0, usage: 1, badInput: 2, model: 3 } as const;

/** Exit code and one-line message for an error; unknown errors keep their stack for bug reports. */
export function describeError(e: unknown): { code: number; message: string } {
  if (e instanceof OptionsError) return { code: EXIT.usage, message: e.message };
  if (e instanceof InputError || e instanceof OutputError) return { code: EXIT.badInput, message: e.message };
  if (e instanceof ModelError) {
    // A file that cannot be parsed may be a damaged cached download: say how to check and clear it.
    const hint = e.code === 'invalid-file' ? ' If the model came from the hub cache, `quals model verify ORG/NAME` checks its files (--remove-damaged deletes bad ones so the next run downloads them again).' : '';
    return { code: EXIT.model, message: e.message + hint };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: EXIT.model, message: `Unexpected error: ${err.message}\n${err.stack ?? ''}` };
}
