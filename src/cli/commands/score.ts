/** `quals score`: one (source, summary) pair -> a readable report, or the result JSON with --json. */
import { createEngine } from '../../scoring/engine';
import { DEFAULT_PAIR_THRESHOLD } from '../../scoring/options';
import { blankDirectives } from '../../scoring/pairing';
import { EXIT, describeError } from '../exit-codes';
import { MODEL_FLAGS_HELP, MODEL_FLAG_SPECS, OPTION_FLAG_SPECS, engineConfigFromFlags } from '../options-flags';
import { readStdinText, readTextFile } from '../read-input';
import { safeForTerminal, terminalSafeResult } from '../terminal-text';
import { renderReport } from '../report';
import { parseCommand } from '../parse-command';

const DEFAULT_THRESHOLD = DEFAULT_PAIR_THRESHOLD;

const HELP = `Usage: quals score --source FILE --summary FILE [options]

Scores how well the summary is supported by the source (QUALS) and lists the QA pairs,
worst first, with suspect answers marked in the summary.

  --source FILE          the source document (UTF-8 text; - reads stdin)
  --summary FILE         the summary to check (UTF-8 text; - reads stdin)
  --json                 print the result as JSON (schema: docs/result-schema.md)
  --threshold=X          pairs scoring below X are suspect (default ${DEFAULT_THRESHOLD}; write
                         negative values with "=", e.g. --threshold=-1.5)
${MODEL_FLAGS_HELP}

Exit codes: 0 ok, 1 usage, 2 bad input, 3 model problem.`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand('score', args, {
      source: { type: 'string' },
      summary: { type: 'string' },
      json: { type: 'boolean' },
      threshold: { type: 'string' },
      ...MODEL_FLAG_SPECS,
      ...OPTION_FLAG_SPECS,
  }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  if (typeof values.source !== 'string' || typeof values.summary !== 'string') {
    process.stderr.write('quals score: both --source FILE and --summary FILE are needed.\nRun `quals score --help` for usage.\n');
    return EXIT.usage;
  }
  const threshold = values.threshold === undefined ? DEFAULT_THRESHOLD : Number(values.threshold);
  if (!Number.isFinite(threshold)) {
    process.stderr.write(`quals score: --threshold needs a number (got "${String(values.threshold)}").\n`);
    return EXIT.usage;
  }
  try {
    const config = engineConfigFromFlags(values, (line) => process.stderr.write(`quals: ${line}\n`));
    if (values.source === '-' && values.summary === '-') {
      process.stderr.write('quals score: only one of --source and --summary can be - (stdin).\n');
      return EXIT.usage;
    }
    const read = (path: string, role: string) => (path === '-' ? readStdinText(role) : readTextFile(path, role));
    const source = await read(values.source, 'source');
    const summary = await read(values.summary, 'summary');
    const engine = await createEngine(config);
    try {
      // A summary's `<!-- quals-source: ... -->` directive or front matter is not part of what it claims.
      const result = await engine.score({ source, summary: blankDirectives(summary) });
      if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        // Texts and model output are shown as written, minus terminal control sequences (ESC[2J, OSC 52).
        process.stdout.write(`${renderReport(terminalSafeResult(result), safeForTerminal(summary), { color, threshold })}\n`);
      }
    } finally {
      await engine.dispose();
    }
    return EXIT.ok;
  } catch (e) {
    const { code, message } = describeError(e);
    process.stderr.write(`quals score: ${message}\n`);
    return code;
  }
}
