/** `quals merge`: joins `quals batch --shard` outputs in input order, checking that every line is there once. */
import { existsSync, statSync } from 'node:fs';
import { countLines } from '../../batch/jsonl';
import { mergeShards } from '../../batch/merge';
import { assertOutputsAreNotInputs } from '../../batch/output-files';
import { EXIT } from '../exit-codes';
import { parseCommand } from '../parse-command';
import { reportError, usageError } from './batch-shared';

const HELP = `Usage: quals merge --out FILE.jsonl [--in INPUT.jsonl | --expect N] SHARD.jsonl...

Merges shard outputs of quals batch into one file in input order (lines are copied unchanged) and
checks that no input line is missing or duplicated. The output is written only when the check
passes (atomically: it appears complete or not at all).

  --out FILE             merged output
  --in FILE              the batch input: also checks that the last lines are not missing
  --expect N             same, given the input's line count
  --overwrite            replace an existing output file

Without --in/--expect, gaps between lines are found but missing lines at the end cannot be.
Exit codes: 0 ok, 1 usage, 2 missing/duplicate lines or unreadable shard.`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand('merge', args, { out: { type: 'string' }, in: { type: 'string' }, expect: { type: 'string' }, overwrite: { type: 'boolean' } }, HELP, true);
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (typeof values.out !== 'string') return usageError('merge', '--out FILE is needed.');
  if (positionals.length === 0) return usageError('merge', 'name the shard outputs to merge.');
  if (values.in !== undefined && values.expect !== undefined) return usageError('merge', '--in and --expect exclude each other.');
  let expectLines: number | undefined;
  if (typeof values.expect === 'string') {
    expectLines = Number(values.expect);
    if (!Number.isInteger(expectLines) || expectLines < 0) return usageError('merge', `--expect needs a line count (got "${values.expect}").`);
  }
  try {
    assertOutputsAreNotInputs([...positionals, ...(typeof values.in === 'string' ? [values.in] : [])], [values.out]);
  } catch (e) {
    return reportError('merge', e);
  }
  if (existsSync(values.out) && !values.overwrite) {
    process.stderr.write(`quals merge: ${values.out} already exists; pass --overwrite to replace it.\n`);
    return EXIT.badInput;
  }
  try {
    if (typeof values.in === 'string') {
      if (!existsSync(values.in) || !statSync(values.in).isFile()) {
        process.stderr.write(`quals merge: input file not found: ${values.in}\n`);
        return EXIT.badInput;
      }
      expectLines = countLines(values.in);
    }
    const rep = await mergeShards({ inputs: positionals, output: values.out, expectLines });
    const list = (xs: number[], count: number) => `${xs.join(', ')}${count > xs.length ? `, ... (${count} in all)` : ''}`;
    if (rep.missingCount) process.stderr.write(`quals merge: ${rep.missingCount} input lines missing: ${list(rep.missing, rep.missingCount)}\n`);
    if (rep.duplicateCount) process.stderr.write(`quals merge: ${rep.duplicateCount} input lines appear more than once: ${list(rep.duplicates, rep.duplicateCount)}\n`);
    if (rep.extraCount) process.stderr.write(`quals merge: ${rep.extraCount} lines are numbered beyond the input's ${expectLines} lines (wrong --in?)\n`);
    if (!rep.written) {
      process.stderr.write(`quals merge: ${values.out} not written; rerun the incomplete shards (quals batch --resume) and merge again.\n`);
      return EXIT.badInput;
    }
    const tail = expectLines === undefined ? ' (pass --in to also check the end of the input)' : '';
    process.stderr.write(`quals merge: ${rep.lines} lines from ${positionals.length} shards -> ${values.out}${tail}\n`);
    return EXIT.ok;
  } catch (e) {
    return reportError('merge', e);
  }
}
