/** `quals`: the command-line front end. Each command lives in ./commands and returns its exit code. */
import '../util/ort-env'; // first: before anything can load ONNX Runtime
import { EXIT } from './exit-codes';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  score: { summary: 'score one summary against its source', load: () => import('./commands/score') },
  batch: { summary: 'score every line of a JSONL file (resumable, shardable, --workers)', load: () => import('./commands/batch') },
  merge: { summary: 'join batch shard outputs in input order, checking coverage', load: () => import('./commands/merge') },
  eval: { summary: 'correlate QUALS with human labels (QAGS or JSONL with label)', load: () => import('./commands/eval') },
  conseq: { summary: 'build ConSeq S+/S- training sets from scored JSONL', load: () => import('./commands/conseq') },
  rouge: { summary: 'ROUGE-1/2/L F1 against references', load: () => import('./commands/rouge') },
  model: { summary: 'import a Hugging Face checkpoint (folder or hub id) as a model; check a model', load: () => import('./commands/model') },
  // Internal: the process `batch --workers K` forks for each worker.
  __worker: { summary: '', load: () => import('./commands/worker') },
};

const HELP = `Usage: quals <command> [options]

Fact-checks summaries against their sources with QUALS (one question-and-answer generation model).

Commands:
${Object.entries(COMMANDS)
  .filter(([name]) => !name.startsWith('__'))
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

Run \`quals <command> --help\` for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`quals: unknown command "${name}".\n\n${HELP}\n`);
    return EXIT.usage;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`quals: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT.model;
  },
);
