/**
 * `quals eval`: scores annotated summaries and reports how well QUALS agrees with the human labels
 * (Pearson, Spearman, Kendall tau-b with bootstrap 95% intervals).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../batch/atomic';
import { assertOutputsAreNotInputs } from '../../batch/output-files';
import { extractPair, type FieldMapping, type JsonRecord, type PairRecord, type Parsed } from '../../batch/fields';
import { readLines } from '../../batch/jsonl';
import { runBatch, type BatchSummary } from '../../batch/runner';
import { correlate, type CorrelationReport, type Interval } from '../../metrics/correlation';
import { parseQagsRecord } from '../../metrics/qags-labels';
import { EXIT } from '../exit-codes';
import { parseCommand } from '../parse-command';
import { MODEL_FLAGS_HELP, MODEL_FLAG_SPECS, OPTION_FLAG_SPECS, engineConfigFromFlags } from '../options-flags';
import { RUN_FLAGS_HELP, RUN_FLAG_SPECS, interruptSignal, makeProgress, parseWorkers, reportError, startScoring, usageError } from './batch-shared';
import { fieldMapping } from './batch';
import { describeInputCounts, describeSettings } from '../../scoring/input-notes';

const HELP = `Usage: quals eval --in FILE.jsonl [--format qags|jsonl] [options]

Scores each annotated summary and reports the correlation of QUALS with the human labels.
Summaries without answerable QA pairs (no score) and bad lines are excluded and counted.

Data:
  --in FILE              annotations, JSONL
  --format qags          QAGS human annotations: {"article", "summary_sentences": [{"sentence",
                         "responses": [{"response": "yes"|"no"}, ...]}]}; label = mean over
                         sentences of the majority vote
  --format jsonl         one pair per line with a numeric label (fields as in quals batch)
                         (default: qags for lines with "summary_sentences", jsonl otherwise)
  --label-field NAME     label field for jsonl (default "label")
  --doc-field, --summary-field, --id-field   as in quals batch
  --out FILE             keep the per-summary results (JSONL, with "label"); resumable
  --report FILE          write the correlations as JSON (--overwrite to replace a file)
  --bootstrap N          bootstrap resamples (default 1000)
  --seed N               bootstrap seed (default 1)
  --model-format F       qagen | lmqg (the model format; --format here names the data)
${RUN_FLAGS_HELP.replace(/ {2}--shard[^\n]*\n/, '')}
${MODEL_FLAGS_HELP.replace(/ {2}--format F[^\n]*\n/, '')}

Exit codes: 0 ok, 1 usage, 2 bad input, 3 model problem, 130 interrupted.`;

type DataFormat = 'qags' | 'jsonl' | 'auto';

export interface EvalReport {
  input: string;
  summaries: number;
  scored: number;
  noPairsExcluded: number;
  errorsExcluded: number;
  bootstrap: { resamples: number; level: number; seed: number };
  correlations: CorrelationReport;
}

export async function run(args: string[]): Promise<number> {
  const { format: _modelFormat, ...modelFlags } = MODEL_FLAG_SPECS;
  const parsed = parseCommand('eval', args, {
    in: { type: 'string' },
    format: { type: 'string' },
    'label-field': { type: 'string' },
    'doc-field': { type: 'string' },
    'summary-field': { type: 'string' },
    'id-field': { type: 'string' },
    out: { type: 'string' },
    report: { type: 'string' },
    bootstrap: { type: 'string' },
    seed: { type: 'string' },
    'model-format': { type: 'string' },
    ...RUN_FLAG_SPECS,
    ...modelFlags,
    ...OPTION_FLAG_SPECS,
  }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  if (typeof values.in !== 'string') return usageError('eval', '--in FILE is needed.');
  const format = (values.format ?? 'auto') as DataFormat;
  if (!['qags', 'jsonl', 'auto'].includes(format)) return usageError('eval', `--format must be qags or jsonl (got "${String(values.format)}"; the model format is --model-format).`);
  const resamples = values.bootstrap === undefined ? 1000 : Number(values.bootstrap);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(resamples) || resamples < 1) return usageError('eval', `--bootstrap needs a whole number >= 1 (got "${String(values.bootstrap)}").`);
  if (!Number.isInteger(seed)) return usageError('eval', `--seed needs a whole number (got "${String(values.seed)}").`);
  if (values.shard !== undefined) return usageError('eval', '--shard is for quals batch; a correlation needs every summary.');
  const labelField = typeof values['label-field'] === 'string' ? values['label-field'] : 'label';
  const labelled = labelledExtractor(format, fieldMapping(values), labelField);

  const reportPath = typeof values.report === 'string' ? values.report : undefined;
  if (reportPath !== undefined && existsSync(reportPath) && !values.overwrite) {
    process.stderr.write(`quals eval: ${reportPath} already exists; pass --overwrite to replace it.\n`);
    return EXIT.badInput;
  }
  try {
    assertOutputsAreNotInputs([values.in], [...(typeof values.out === 'string' ? [values.out] : []), ...(reportPath !== undefined ? [reportPath] : [])]);
  } catch (e) {
    return reportError('eval', e);
  }
  const keepOut = typeof values.out === 'string';
  const tmp = keepOut ? null : mkdtempSync(join(tmpdir(), 'quals-eval-'));
  const out = keepOut ? (values.out as string) : join(tmp!, 'scored.jsonl');
  const interrupt = interruptSignal('eval');
  try {
    const workers = parseWorkers(values.workers);
    const config = engineConfigFromFlags({ ...values, format: values['model-format'] }, (line) => process.stderr.write(`quals: ${line}\n`));
    const progress = makeProgress(values, 'quals eval');
    const scoring = await startScoring(config, workers);
    let summary: BatchSummary;
    try {
      summary = await runBatch({
        input: values.in,
        output: out,
        mode: values.resume ? 'resume' : values.overwrite ? 'overwrite' : 'new',
        scorer: scoring.scorer,
        concurrency: scoring.concurrency,
        extract: (r, n) => {
          const p = labelled(r, n);
          return p.ok ? { ok: true, value: p.value.pair } : p;
        },
        decorate: (r) => {
          const p = labelled(r, 0);
          return p.ok ? { label: p.value.label } : {};
        },
        signal: interrupt.signal,
        progress,
        warn: (line) => process.stderr.write(`quals eval: ${line}\n`),
      });
    } finally {
      await scoring.close();
    }
    if (summary.interrupted) {
      process.stderr.write(`quals eval: interrupted${keepOut ? '; rerun with --resume to finish' : ''}.\n`);
      return 130;
    }
    const report = await evaluate(values.in, out, { resamples, seed, level: 0.95 });
    process.stdout.write(formatReport(report));
    // How the texts were read (records cut or windowed) and the settings the scores were computed with.
    const inputs = summary.inputs ? describeInputCounts(summary.inputs) : '';
    const settings = describeSettings({ computedWith: summary.settings });
    process.stdout.write(`  ${inputs || 'long inputs: none (every source and summary read whole)'}\n${settings ? `  settings: ${settings}\n` : ''}`);
    if (reportPath !== undefined) writeFileAtomic(reportPath, JSON.stringify({ ...report, inputs: summary.inputs, ...(summary.settings ? { computedWith: summary.settings } : {}) }, null, 2) + '\n');
    return EXIT.ok;
  } catch (e) {
    return reportError('eval', e);
  } finally {
    interrupt.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

interface Labelled {
  pair: PairRecord;
  label: number;
}

export function labelledExtractor(format: DataFormat, fields: FieldMapping, labelField: string): (r: JsonRecord, lineNo: number) => Parsed<Labelled> {
  return (r, lineNo) => {
    if (format === 'qags' || (format === 'auto' && 'summary_sentences' in r)) {
      const q = parseQagsRecord(r, lineNo);
      if (!q.ok) return q;
      const id = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null;
      return { ok: true, value: { pair: { id, source: q.value.source, summary: q.value.summary }, label: q.value.label } };
    }
    const p = extractPair(r, lineNo, fields);
    if (!p.ok) return p;
    const label = r[labelField];
    if (typeof label !== 'number' || !Number.isFinite(label)) {
      return { ok: false, id: p.value.id, error: { code: 'missing-field', message: `line ${lineNo}: no numeric "${labelField}" field (name it with --label-field)` } };
    }
    return { ok: true, value: { pair: p.value, label } };
  };
}

/** Reads scored lines (with labels) and correlates score with label over the lines that have a score. */
export async function evaluate(input: string, scoredPath: string, bootstrap: { resamples: number; seed: number; level: number }): Promise<EvalReport> {
  const scores: number[] = [];
  const labels: number[] = [];
  let summaries = 0;
  let noPairs = 0;
  let errors = 0;
  for await (const { text } of readLines(scoredPath)) {
    const r = JSON.parse(text) as { status?: string; score?: unknown; label?: unknown };
    summaries++;
    if (r.status === 'no-pairs') noPairs++;
    else if (r.status !== 'ok' || typeof r.score !== 'number' || typeof r.label !== 'number') errors++;
    else {
      scores.push(r.score);
      labels.push(r.label);
    }
  }
  return {
    input,
    summaries,
    scored: scores.length,
    noPairsExcluded: noPairs,
    errorsExcluded: errors,
    bootstrap,
    correlations: correlate(scores, labels, bootstrap),
  };
}

export function formatReport(r: EvalReport): string {
  const row = (name: string, i: Interval) => {
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(4).padStart(7) : '    n/a');
    return `  ${name.padEnd(14)}${f(i.estimate)}   [${f(i.low)}, ${f(i.high)}]\n`;
  };
  const c = r.correlations;
  return (
    `${r.summaries} summaries: ${r.scored} scored, ${r.noPairsExcluded} without answerable QA pairs (excluded), ${r.errorsExcluded} bad lines (excluded)\n` +
    `  correlation with human labels (n = ${c.n}), bootstrap ${Math.round(r.bootstrap.level * 100)}% interval over ${r.bootstrap.resamples} resamples:\n` +
    row('Pearson', c.pearson) +
    row('Spearman', c.spearman) +
    row('Kendall tau-b', c.kendall)
  );
}
