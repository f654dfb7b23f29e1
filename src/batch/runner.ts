/**
 * The batch loop: stream input lines, keep this shard's, skip what a previous run finished, score
 * with an injected scorer (in-process engine or worker pool), append one result line per input
 * line in input order. Engine-independent so the streaming, resume and ordering logic is testable
 * with a cheap scorer.
 */
import { existsSync, statSync } from 'node:fs';
import { CancelledError, InputError, ModelError } from '../scoring/errors';
import type { QualsResult } from '../scoring/result';
import { countInputs, emptyInputCounts, type InputCounts } from '../scoring/input-notes';
import { extractPair, parseRecord, DEFAULT_FIELDS, type JsonRecord, type LineError, type PairRecord, type Parsed, type RecordId } from './fields';
import { AtomicJsonl } from './atomic';
import { countLines, dropTornTail, LineAppender, readLines, type InputLine } from './jsonl';
import { assertOutputsAreNotInputs } from './output-files';
import { mapOrdered } from './ordered';
import type { ProgressReporter } from './progress';
import { WorkerCrashError } from './worker-protocol';
import { formatShard, inShard, shardSize, type Shard } from './shard';

/** Scores one (source, summary) pair; the engine in the CLI, anything cheap in tests. */
export type PairScorer = (source: string, summary: string, signal?: AbortSignal) => Promise<QualsResult>;

/** A whole-run problem with the input or output files (the CLI's exit code 2). */
export class BatchInputError extends Error {
  override name = 'BatchInputError';
}

export interface BatchOptions {
  input: string;
  output: string;
  /** `new` refuses a non-empty output file; `resume` continues it; `overwrite` empties it. */
  mode: 'new' | 'resume' | 'overwrite';
  scorer: PairScorer;
  /** Scorer calls in flight (= worker processes). */
  concurrency?: number;
  shard?: Shard;
  /** Record -> pair to score (default: document/article, summary/highlights, id). */
  extract?: (record: JsonRecord, lineNo: number) => Parsed<PairRecord>;
  /** Extra fields for a scored line's output record (kept input fields, ROUGE, labels). */
  decorate?: (record: JsonRecord, pair: PairRecord) => Record<string, unknown>;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Bad-line reports and notices (stderr in the CLI). */
  warn?: (line: string) => void;
  /** Called after each appended line; tests sample memory here. */
  onLine?: (lineNo: number) => void;
}

export interface BatchSummary {
  /** Lines in the output after this run (earlier runs included). */
  lines: number;
  /** Lines that an earlier run had finished. */
  resumed: number;
  ok: number;
  noPairs: number;
  errors: number;
  /** Mean QUALS over lines with a score (earlier runs included); null when none. */
  meanScore: number | null;
  elapsedMs: number;
  /** True when the run stopped early (signal); rerun with resume to finish. */
  interrupted: boolean;
  /** Bytes of a torn final line dropped from the output before resuming. */
  tornBytes: number;
  /** Lines whose source / summary was truncated (reference mode) or read in windows (paper mode), earlier runs included. */
  inputs?: InputCounts;
  /** The effective settings and their origins (`computedWith` of the first scored line of this run). */
  settings?: QualsResult['computedWith'];
}

type Task = { lineNo: number; id: RecordId; error: LineError } | { lineNo: number; id: RecordId; record: JsonRecord; pair: PairRecord };
type Done =
  | { cancelled: true }
  | { cancelled: false; lineNo: number; out: Record<string, unknown>; score: number | null; status: string; modelError?: ModelError };

/**
 * A model error on one pair (odd output for an odd summary) is a bad line; the same error on this
 * many pairs in a row means the model itself is wrong, and the run stops instead of filling the file.
 */
export const MAX_CONSECUTIVE_MODEL_ERRORS = 20;

class Tally {
  lines = 0;
  ok = 0;
  noPairs = 0;
  errors = 0;
  sum = 0;
  inputs = emptyInputCounts();
  settings: QualsResult['computedWith'];
  add(status: unknown, score: unknown, record?: Record<string, unknown>): void {
    this.lines++;
    if (record) countInputs(this.inputs, record as Pick<QualsResult, 'source' | 'summaryInput'>);
    if (record && !this.settings && record.computedWith && typeof record.computedWith === 'object') this.settings = record.computedWith as QualsResult['computedWith'];
    if (status === 'ok') this.ok++;
    else if (status === 'no-pairs') this.noPairs++;
    else this.errors++;
    if (typeof score === 'number' && Number.isFinite(score)) this.sum += score;
  }
  get mean(): number | null {
    return this.ok ? this.sum / this.ok : null;
  }
}

export async function runBatch(opts: BatchOptions): Promise<BatchSummary> {
  const t0 = Date.now();
  const warn = opts.warn ?? (() => {});
  if (opts.input !== '-' && !existsSync(opts.input)) throw new BatchInputError(`Input file not found: ${opts.input}`);
  if (opts.input !== '-' && !statSync(opts.input).isFile()) throw new BatchInputError(`Input is not a file: ${opts.input}`);

  // Before anything is opened for writing: an output that is the input would be emptied.
  assertOutputsAreNotInputs([opts.input], [opts.output]);
  const tally = new Tally();
  let tornBytes = 0;
  let lastDone = 0;
  const outExists = existsSync(opts.output) && statSync(opts.output).size > 0;
  if (outExists && opts.mode === 'new') {
    throw new BatchInputError(`${opts.output} already exists; pass --resume to continue it or --overwrite to replace it.`);
  }
  if (outExists && opts.mode === 'resume') {
    tornBytes = dropTornTail(opts.output);
    if (tornBytes) warn(`dropped a torn last line (${tornBytes} bytes) from ${opts.output}; that input line is scored again`);
    lastDone = await scanExisting(opts.output, opts.shard, tally);
  }
  const resumed = tally.lines;

  const total = opts.input === '-' ? null : Math.max(0, shardSize(countLines(opts.input), opts.shard) - resumed);
  const extract = opts.extract ?? ((r: JsonRecord, n: number) => extractPair(r, n, DEFAULT_FIELDS));

  async function* tasks(): AsyncGenerator<Task> {
    for await (const line of readLines(opts.input)) {
      if (opts.signal?.aborted) return;
      if (line.lineNo <= lastDone || !inShard(line.lineNo, opts.shard)) continue;
      yield toTask(line, extract);
    }
  }

  const score = async (task: Task): Promise<Done> => {
    if ('error' in task) {
      return { cancelled: false, lineNo: task.lineNo, status: 'error', score: null, out: errorRecord(task.lineNo, task.id, task.error) };
    }
    if (opts.signal?.aborted) return { cancelled: true };
    try {
      const result = await opts.scorer(task.pair.source, task.pair.summary, opts.signal);
      const extra = opts.decorate?.(task.record, task.pair) ?? {};
      return { cancelled: false, lineNo: task.lineNo, status: result.status, score: result.score, out: { line: task.lineNo, id: task.pair.id, ...extra, ...result } };
    } catch (e) {
      if (e instanceof CancelledError || opts.signal?.aborted) return { cancelled: true };
      if (e instanceof WorkerCrashError) throw e;
      const code = e instanceof InputError ? `input-${e.code}` : e instanceof ModelError ? `model-${e.code}` : 'scoring-failed';
      const error = { code, message: `line ${task.lineNo}: ${(e as Error).message}` };
      const out = errorRecord(task.lineNo, task.pair.id, error);
      return { cancelled: false, lineNo: task.lineNo, status: 'error', score: null, out, modelError: e instanceof ModelError ? e : undefined };
    }
  };

  // --overwrite writes a temporary file renamed over the old output at the end (also when
  // interrupted, so --resume continues it): a crash or a failed run leaves the old output whole.
  const replacing = opts.mode === 'overwrite' && outExists;
  const out = replacing ? new AtomicJsonl(opts.output) : LineAppender.open(opts.output, opts.mode === 'overwrite');
  let interrupted = false;
  let failed = true;
  let done = 0;
  let modelErrors = 0;
  try {
    for await (const d of mapOrdered(tasks(), { concurrency: opts.concurrency ?? 1 }, score)) {
      if (d.cancelled) {
        interrupted = true;
        break;
      }
      modelErrors = d.modelError ? modelErrors + 1 : 0;
      if (modelErrors >= MAX_CONSECUTIVE_MODEL_ERRORS) {
        throw new ModelError(d.modelError!.code, `${modelErrors} lines in a row failed with: ${d.modelError!.message}`);
      }
      out.append(d.out);
      tally.add(d.status, d.score, d.out);
      done++;
      if (d.status === 'error') warn(String((d.out.error as LineError).message));
      opts.onLine?.(d.lineNo);
      opts.progress?.update({ done, resumed, errors: tally.errors, total });
    }
    if (opts.signal?.aborted) interrupted = true;
    failed = false;
  } finally {
    if (out instanceof AtomicJsonl) {
      if (failed) out.abort();
      else out.commit();
    } else out.close();
    opts.progress?.finish();
  }
  return { lines: tally.lines, resumed, ok: tally.ok, noPairs: tally.noPairs, errors: tally.errors, meanScore: tally.mean, elapsedMs: Date.now() - t0, interrupted, tornBytes, inputs: tally.inputs, ...(tally.settings ? { settings: tally.settings } : {}) };
}

function toTask(line: InputLine, extract: (r: JsonRecord, n: number) => Parsed<PairRecord>): Task {
  const parsed = parseRecord(line);
  if (!parsed.ok) return { lineNo: line.lineNo, id: parsed.id, error: parsed.error };
  const pair = extract(parsed.value, line.lineNo);
  if (!pair.ok) return { lineNo: line.lineNo, id: pair.id, error: pair.error };
  return { lineNo: line.lineNo, id: pair.value.id, record: parsed.value, pair: pair.value };
}

/** The output record for a line that could not be scored. */
export function errorRecord(lineNo: number, id: RecordId, error: LineError): Record<string, unknown> {
  return { line: lineNo, id, status: 'error', score: null, error };
}

/**
 * Reads an existing output before resuming: checks that it is a batch output for this shard in
 * input order (so skipping up to its last line is correct) and tallies it for the final summary.
 */
async function scanExisting(path: string, shard: Shard | undefined, tally: Tally): Promise<number> {
  let last = 0;
  for await (const { lineNo, text } of readLines(path)) {
    let rec: { line?: unknown; status?: unknown; score?: unknown; source?: unknown; summaryInput?: unknown };
    try {
      rec = JSON.parse(text);
    } catch {
      throw new BatchInputError(`${path} line ${lineNo} is not valid JSON, so it cannot be resumed; remove that line or use --overwrite.`);
    }
    const n = rec.line;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= last) {
      throw new BatchInputError(`${path} line ${lineNo} has no "line" number in increasing order; it is not a quals batch output that can be resumed.`);
    }
    if (!inShard(n, shard)) {
      throw new BatchInputError(`${path} holds input line ${n}, which is not in shard ${shard ? formatShard(shard) : '(none)'}; was it written with another --shard?`);
    }
    last = n;
    tally.add(rec.status, rec.score, rec);
  }
  return last;
}
