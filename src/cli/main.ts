/** `quals`: the command-line front end. Each command lives in ./commands and returns its exit code. */
import { EXIT } from './exit-codes';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  score: { summary: 'score one summary against its source', load: () => import('./commands/score') },
};

const HELP = `Usage: quals <command> [options]

Fact-checks summaries against their sources with QUALS (one question-and-answer generation model).

Commands:
${Object.entries(COMMANDS)
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
