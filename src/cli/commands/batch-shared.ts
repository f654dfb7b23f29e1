/**
 * What `quals batch` and `quals eval` share: building the scorer (the engine in this process, or
 * a pool of worker processes), Ctrl-C / SIGTERM handling, progress on stderr, the final summary
 * line and error -> exit code mapping.
 */
import { availableParallelism } from 'node:os';
import { formatDuration, ProgressReporter } from '../../batch/progress';
import { BatchInputError, type BatchSummary, type PairScorer } from '../../batch/runner';
import { WorkerPool } from '../../batch/worker-pool';
import { WorkerCrashError } from '../../batch/worker-protocol';
import type { EngineConfig } from '../../scoring/engine-api';
import { createEngine } from '../../scoring/engine';
import { OptionsError } from '../../scoring/options';
import { EXIT, describeError } from '../exit-codes';
import { describeInputCounts, describeSettings } from '../../scoring/input-notes';

/** The hidden command a worker process runs (see ./worker.ts). */
export const WORKER_COMMAND = '__worker';

export const RUN_FLAGS_HELP = `Running:
  --workers K            K model processes on this machine (default 1: in this process)
  --shard i/N            only input lines n with (n-1) mod N = i (0-based i); N runs cover the file once
  --resume               continue an interrupted run: keep the output's finished lines, score the rest
  --overwrite            replace an existing output file
  --quiet                no progress output
  --progress-every S     seconds between progress lines when stderr is not a terminal (default 10)`;

export const RUN_FLAG_SPECS = {
  workers: { type: 'string' },
  shard: { type: 'string' },
  resume: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'progress-every': { type: 'string' },
} as const;

export interface Scoring {
  scorer: PairScorer;
  concurrency: number;
  close(): Promise<void>;
}

export function parseWorkers(raw: unknown): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new OptionsError(`--workers needs a whole number >= 1 (got "${String(raw)}").`);
  return n;
}

/** Loads the model once: here for one worker, in each of K forked processes otherwise. */
export async function startScoring(config: EngineConfig, workers: number): Promise<Scoring> {
  if (workers === 1) {
    const engine = await createEngine(config);
    return {
      scorer: (source, summary, signal) => engine.score({ source, summary, signal }),
      concurrency: 1,
      close: () => engine.dispose(),
    };
  }
  // Without a thread cap K ONNX Runtime pools would each claim every core and fight.
  const threads = config.threads ?? Math.max(1, Math.floor(availableParallelism() / workers));
  const { log: _log, onDownloadProgress: _p, ...plain } = config;
  const pool = await WorkerPool.start({ size: workers, script: process.argv[1]!, args: [WORKER_COMMAND], init: { ...plain, threads } });
  return { scorer: pool.score, concurrency: workers, close: () => pool.close() };
}

/** Aborts on the first Ctrl-C / SIGTERM (finished lines stay); a second one exits at once. */
export function interruptSignal(command: string, stopping = 'stopping after the lines in progress'): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write(`\nquals ${command}: ${sig}: ${stopping} (again to quit now)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function makeProgress(values: Record<string, unknown>, label: string): ProgressReporter | undefined {
  if (values.quiet) return undefined;
  const every = values['progress-every'] === undefined ? 10 : Number(values['progress-every']);
  if (!Number.isFinite(every) || every < 0) throw new OptionsError(`--progress-every needs seconds >= 0 (got "${String(values['progress-every'])}").`);
  const err = process.stderr;
  return new ProgressReporter({ write: (t) => err.write(t), isTTY: Boolean(err.isTTY), columns: err.columns }, { plainEveryMs: every * 1000, label });
}

export function formatSummary(s: BatchSummary, output: string): string {
  const secs = s.elapsedMs / 1000;
  const thisRun = s.lines - s.resumed;
  const parts = [
    `${s.lines} lines (${s.ok} scored, ${s.noPairs} without answerable pairs, ${s.errors} errors)`,
    `mean QUALS ${s.meanScore === null ? 'n/a' : s.meanScore.toFixed(4)}`,
    `${formatDuration(secs)} for ${thisRun} lines${secs > 0 ? ` (${(thisRun / secs).toFixed(2)} lines/s)` : ''}`,
  ];
  if (s.resumed) parts.push(`${s.resumed} from an earlier run`);
  const inputs = s.inputs ? describeInputCounts(s.inputs) : '';
  if (inputs) parts.push(inputs);
  const settings = describeSettings({ computedWith: s.settings });
  return `${parts.join(', ')} -> ${output}${settings ? `\n  settings: ${settings}` : ''}`;
}

/** Maps an error to the command's exit code and prints its one-line message. */
export function reportError(command: string, e: unknown): number {
  if (e instanceof BatchInputError) {
    process.stderr.write(`quals ${command}: ${e.message}\n`);
    return EXIT.badInput;
  }
  if (e instanceof WorkerCrashError) {
    process.stderr.write(`quals ${command}: ${e.message}\n`);
    return EXIT.model;
  }
  const { code, message } = describeError(e);
  process.stderr.write(`quals ${command}: ${message}\n`);
  return code;
}

export { usageError } from '../parse-command';
