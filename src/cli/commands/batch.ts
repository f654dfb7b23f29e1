/** `quals batch`: scores every (document, summary) line of a JSONL file, streaming, resumable, shardable. */
import { DEFAULT_FIELDS, extractPair, recordId, type FieldMapping, type JsonRecord, type PairRecord, type Parsed } from '../../batch/fields';
import { parseQagsRecord } from '../../metrics/qags-labels';
import { assertOutputsAreNotInputs } from '../../batch/output-files';
import { runBatch } from '../../batch/runner';
import { parseShard, type Shard } from '../../batch/shard';
import { rouge } from '../../metrics/rouge';
import { EXIT } from '../exit-codes';
import { MODEL_FLAGS_HELP, MODEL_FLAG_SPECS, OPTION_FLAG_SPECS, engineConfigFromFlags } from '../options-flags';
import { RUN_FLAGS_HELP, RUN_FLAG_SPECS, formatSummary, interruptSignal, makeProgress, parseWorkers, reportError, startScoring, usageError } from './batch-shared';
import { parseCommand } from '../parse-command';

const HELP = `Usage: quals batch --in FILE.jsonl --out FILE.jsonl [options]

Scores each input line's summary against its document. Writes one line per input line, in input
order: {"line": n, "id": ..., <the result JSON of quals score --json>}; a bad input line gets
{"line": n, "id": ..., "status": "error", "score": null, "error": {"code", "message"}} and the run
goes on. Each line is appended whole, so an interrupted run leaves a file --resume can continue.

Input:
  --in FILE              JSONL input (- for stdin)
  --out FILE             JSONL output
  --doc-field NAME       document field (default: "document", else "article")
  --summary-field NAME   summary field (default: "summary", else "highlights"; QAGS annotation
                         lines, with "article" and "summary_sentences", are read as quals eval does)
  --id-field NAME        id copied to the output (default: "id")
  --keep F1,F2,...       also copy these input fields into each result line
                         (e.g. --keep document,summary,role for quals conseq)
  --rouge                add "rouge": {rouge1, rouge2, rougeL} F1 against the reference
  --reference-field NAME reference summary field for --rouge (default: "reference")
${RUN_FLAGS_HELP}
${MODEL_FLAGS_HELP}

Exit codes: 0 ok (bad lines are reported, not fatal), 1 usage, 2 bad input/output file,
3 model problem, 130 interrupted (rerun with --resume).`;

/** Output keys a --keep field must not shadow. */
const RESERVED = new Set(['line', 'id', 'status', 'score', 'error', 'rouge', 'schemaVersion', 'message', 'mode', 'model', 'source', 'summaryTokens', 'candidates', 'pairs', 'timings', 'summaryInput', 'computedWith']);

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand('batch', args, {
      in: { type: 'string' },
      out: { type: 'string' },
      'doc-field': { type: 'string' },
      'summary-field': { type: 'string' },
      'id-field': { type: 'string' },
      keep: { type: 'string' },
      rouge: { type: 'boolean' },
      'reference-field': { type: 'string' },
      ...RUN_FLAG_SPECS,
      ...MODEL_FLAG_SPECS,
      ...OPTION_FLAG_SPECS,
  }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  if (typeof values.in !== 'string' || typeof values.out !== 'string') return usageError('batch', 'both --in FILE and --out FILE are needed.');
  if (values.resume && values.overwrite) return usageError('batch', '--resume and --overwrite exclude each other.');
  let shard: Shard | undefined;
  try {
    shard = typeof values.shard === 'string' ? parseShard(values.shard) : undefined;
  } catch (e) {
    return usageError('batch', (e as Error).message);
  }
  const fields = fieldMapping(values);
  const keep = typeof values.keep === 'string' ? values.keep.split(',').map((f) => f.trim()).filter(Boolean) : [];
  const clash = keep.find((f) => RESERVED.has(f));
  if (clash) return usageError('batch', `--keep ${clash}: that name is already an output field; rename it in the input.`);
  const referenceField = typeof values['reference-field'] === 'string' ? values['reference-field'] : 'reference';

  const decorate = (record: JsonRecord, pair: { summary: string }): Record<string, unknown> => {
    const extra: Record<string, unknown> = {};
    for (const f of keep) extra[f] = record[f] ?? null;
    if (values.rouge) {
      const ref = record[referenceField];
      extra.rouge = typeof ref === 'string' && ref.trim() ? rougeF1(pair.summary, ref) : null;
    }
    return extra;
  };

  const interrupt = interruptSignal('batch');
  try {
    assertOutputsAreNotInputs([values.in], [values.out]); // before the model loads (runBatch checks again)
    const workers = parseWorkers(values.workers);
    const config = engineConfigFromFlags(values, (line) => process.stderr.write(`quals: ${line}\n`));
    const progress = makeProgress(values, 'quals batch');
    const scoring = await startScoring(config, workers);
    try {
      const summary = await runBatch({
        input: values.in,
        output: values.out,
        mode: values.resume ? 'resume' : values.overwrite ? 'overwrite' : 'new',
        scorer: scoring.scorer,
        concurrency: scoring.concurrency,
        shard,
        extract: (r, n) => extractBatchPair(r, n, fields),
        decorate,
        signal: interrupt.signal,
        progress,
        warn: (line) => process.stderr.write(`quals batch: ${line}\n`),
      });
      process.stderr.write(`quals batch: ${formatSummary(summary, values.out)}\n`);
      if (summary.interrupted) {
        process.stderr.write(`quals batch: interrupted; rerun the same command with --resume to finish.\n`);
        return 130;
      }
      return EXIT.ok;
    } finally {
      await scoring.close();
    }
  } catch (e) {
    return reportError('batch', e);
  } finally {
    interrupt.dispose();
  }
}

/**
 * The pair of a batch line: the mapped fields, or, for a QAGS annotation line (an "article" and
 * "summary_sentences", no summary field), the article and its sentences joined as quals eval reads them.
 */
export function extractBatchPair(r: JsonRecord, lineNo: number, fields: FieldMapping): Parsed<PairRecord> {
  if ('summary_sentences' in r && !fields.summary.some((f) => f in r)) {
    const q = parseQagsRecord(r, lineNo);
    const id = recordId(r, fields.id);
    return q.ok ? { ok: true, value: { id, source: q.value.source, summary: q.value.summary } } : { ...q, id };
  }
  return extractPair(r, lineNo, fields);
}

export function fieldMapping(values: Record<string, unknown>): FieldMapping {
  const one = (flag: string, fallback: string[]) => (typeof values[flag] === 'string' ? [values[flag] as string] : fallback);
  return { source: one('doc-field', DEFAULT_FIELDS.source), summary: one('summary-field', DEFAULT_FIELDS.summary), id: one('id-field', DEFAULT_FIELDS.id) };
}

function rougeF1(summary: string, reference: string): { rouge1: number; rouge2: number; rougeL: number } {
  const r = rouge(summary, reference);
  return { rouge1: r.rouge1.f1, rouge2: r.rouge2.f1, rougeL: r.rougeL.f1 };
}
