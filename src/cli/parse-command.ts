/**
 * The argument handling every `quals` command shares: strict flag parsing, `--help`, and a usage
 * error that points at `--help`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { EXIT } from './exit-codes';

type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export type Parsed = { values: Record<string, unknown>; positionals: string[] } | { exit: number };

export function usageError(command: string, message: string): number {
  process.stderr.write(`quals ${command}: ${message}\nRun \`quals ${command} --help\` for usage.\n`);
  return EXIT.usage;
}

/**
 * Parses `args` for `command`; prints help or a usage error and returns `{ exit }` when the command
 * should stop. Positional arguments are a usage error unless `allowPositionals` is set.
 */
export function parseCommand(command: string, args: string[], options: FlagSpec, help: string, allowPositionals = false): Parsed {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals }));
  } catch (e) {
    return { exit: usageError(command, (e as Error).message) };
  }
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return { exit: EXIT.ok };
  }
  return { values, positionals };
}
