import { InputError, ModelError } from '../scoring/errors';
import { OptionsError } from '../scoring/options';

/** Exit codes of every `quals` command. */
export const EXIT = { ok: 0, usage: 1, badInput: 2, model: 3 } as const;

/** Exit code and one-line message for an error; unknown errors keep their stack for bug reports. */
export function describeError(e: unknown): { code: number; message: string } {
  if (e instanceof OptionsError) return { code: EXIT.usage, message: e.message };
  if (e instanceof InputError) return { code: EXIT.badInput, message: e.message };
  if (e instanceof ModelError) return { code: EXIT.model, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: EXIT.model, message: `Unexpected error: ${err.message}\n${err.stack ?? ''}` };
}
