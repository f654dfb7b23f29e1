/**
 * Builds ConSeq training files from scored JSONL in two streaming passes: the first keeps only
 * numbers per document (so 287k documents x 7 summaries fit in memory), the second copies the
 * selected texts. Each line is one scored (document, summary) pair with a document id and a role,
 * as `quals batch --keep document,summary,role` writes it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AtomicJsonl, writeFileAtomic } from '../batch/atomic';
import { parseRecord, recordId, textField, type JsonRecord } from '../batch/fields';
import { readLines } from '../batch/jsonl';
import { BatchInputError } from '../batch/runner';
import { selectConseq, type CountRule, type DocScores, type SelectOptions } from './select';

export interface ConseqFields {
  id: string[];
  role: string;
  source: string[];
  summary: string[];
  score: string;
}

export const DEFAULT_CONSEQ_FIELDS: Readonly<ConseqFields> = Object.freeze({
  id: ['doc_id', 'id'],
  role: 'role',
  source: ['document', 'article'],
  summary: ['summary', 'highlights'],
  score: 'score',
});

/**
 * Which scores the file must hold: `reference` (default: the authors' eval_ns - ns, what their
 * ConSeq ranked), `paper` (this engine's paper-mode QUALS), or `any`. Read from each line's `mode`
 * (the result's); a line without one is accepted and counted.
 */
export type ScoreMode = 'reference' | 'paper' | 'any';
export const SCORE_MODES: readonly ScoreMode[] = ['reference', 'paper', 'any'];

export interface BuildOptions extends SelectOptions {
  scored: string;
  /** Default `reference`. */
  scoreMode?: ScoreMode;
  outDir: string;
  fields?: ConseqFields;
  overwrite?: boolean;
  warn?: (line: string) => void;
}

export interface ConseqStats {
  lines: number;
  /** Lines skipped: unparsable, no id/role, or a batch error record. */
  badLines: number;
  documents: number;
  documentsWithoutReference: number;
  documentsWithoutScoredSample: number;
  references: { scored: number; noPairs: number };
  samples: { scored: number; noPairs: number };
  negativePercent: number;
  positivePercent: number;
  /** |S-|, |S+| and the training set size (documents in both). */
  negativeSet: number;
  positiveSet: number;
  trainingSet: number;
  negativeCutoff: number | null;
  positiveCutoff: number | null;
  /** The counting rule and the scores it ranked. */
  rule: CountRule;
  scoreMode: ScoreMode;
  /** Scored lines without a `mode` field (their mode could not be checked). */
  linesWithoutMode: number;
  /** Documents taken without a score (authors' rule: its sentinel reached by the count). */
  unscoredTaken: { negative: number; positive: number };
  files: string[];
}

export const OUTPUT_FILES = ['positive.jsonl', 'negative.jsonl', 'pairs.jsonl', 'stats.json'] as const;

interface DocAcc {
  reference: number | null | undefined;
  refLine: number;
  worst: number | null;
  worstLine: number;
  firstSampleLine: number;
}

type Role = 'reference' | 'sample';

interface ScoredLine {
  id: string;
  role: Role;
  score: number | null;
  mode: string | undefined;
}

export async function buildConseq(opts: BuildOptions): Promise<ConseqStats> {
  const fields = opts.fields ?? DEFAULT_CONSEQ_FIELDS;
  const warn = opts.warn ?? (() => {});
  if (!existsSync(opts.scored)) throw new BatchInputError(`Scored file not found: ${opts.scored}`);
  mkdirSync(opts.outDir, { recursive: true });
  const present = OUTPUT_FILES.filter((f) => existsSync(join(opts.outDir, f)));
  if (present.length && !opts.overwrite) {
    throw new BatchInputError(`${join(opts.outDir, present[0]!)} already exists; pass --overwrite to replace the ConSeq files in ${opts.outDir}.`);
  }

  // Pass 1: numbers only.
  const docs = new Map<string, DocAcc>();
  const stats = { lines: 0, badLines: 0, references: { scored: 0, noPairs: 0 }, samples: { scored: 0, noPairs: 0 } };
  const scoreMode = opts.scoreMode ?? 'reference';
  const rule = opts.rule ?? 'authors';
  let linesWithoutMode = 0;
  let warned = 0;
  for await (const line of readLines(opts.scored)) {
    stats.lines++;
    const parsed = parseScoredLine(line.text, line.lineNo, fields);
    if (typeof parsed === 'string') {
      stats.badLines++;
      if (warned++ < 10) warn(parsed);
      continue;
    }
    if (parsed.mode === undefined) linesWithoutMode++;
    else if (scoreMode !== 'any' && parsed.mode !== scoreMode) {
      throw new BatchInputError(
        `${opts.scored} line ${line.lineNo} was scored in ${parsed.mode} mode, but ConSeq ranks ${scoreMode}-mode scores` +
          (scoreMode === 'reference'
            ? ' (the authors ranked their eval_ns - ns): score with `quals batch --mode reference`, or pass --score-mode paper to rank paper-mode scores.'
            : ': pass --score-mode ' + parsed.mode + ' or --score-mode any.'),
      );
    }
    let d = docs.get(parsed.id);
    if (!d) docs.set(parsed.id, (d = { reference: undefined, refLine: 0, worst: null, worstLine: 0, firstSampleLine: 0 }));
    const bucket = parsed.role === 'reference' ? stats.references : stats.samples;
    if (parsed.score === null) bucket.noPairs++;
    else bucket.scored++;
    if (parsed.role === 'reference') {
      if (d.reference !== undefined) {
        stats.badLines++;
        if (warned++ < 10) warn(`line ${line.lineNo}: a second reference for document "${parsed.id}" (ignored)`);
        continue;
      }
      d.reference = parsed.score;
      d.refLine = line.lineNo;
    } else if (d.firstSampleLine === 0) d.firstSampleLine = line.lineNo;
    if (parsed.role === 'sample' && parsed.score !== null && (d.worst === null || parsed.score < d.worst)) {
      d.worst = parsed.score;
      d.worstLine = line.lineNo;
    }
  }
  if (warned > 10) warn(`... ${warned - 10} more skipped lines`);

  const table: DocScores[] = [];
  let noRef = 0;
  let noSample = 0;
  for (const [id, d] of docs) {
    if (d.reference === undefined) noRef++;
    if (d.worst === null) noSample++;
    table.push({ id, reference: d.reference ?? null, worstSample: d.worst, hasReference: d.reference !== undefined, hasSample: d.firstSampleLine > 0 });
  }
  if (linesWithoutMode > 0 && scoreMode !== 'any') warn(`${linesWithoutMode} scored lines have no "mode" field, so whether they hold ${scoreMode}-mode scores was not checked`);
  const sel = selectConseq(table, { ...opts, rule });

  // Pass 2: copy the chosen reference and worst sample of each training document.
  const wanted = new Map<number, { id: string; kind: 'positive' | 'negative'; score: number | null }>();
  for (const id of sel.training) {
    const d = docs.get(id)!;
    wanted.set(d.refLine, { id, kind: 'positive', score: d.reference ?? null });
    // A document taken without a scored sample (authors' rule): its first sample, as their index 0.
    wanted.set(d.worst === null ? d.firstSampleLine : d.worstLine, { id, kind: 'negative', score: d.worst });
  }
  docs.clear();
  const outs = {
    positive: new AtomicJsonl(join(opts.outDir, 'positive.jsonl')),
    negative: new AtomicJsonl(join(opts.outDir, 'negative.jsonl')),
    pairs: new AtomicJsonl(join(opts.outDir, 'pairs.jsonl')),
  };
  try {
    const halves = new Map<string, { kind: string; document: string; summary: string; score: number | null }>();
    for await (const line of readLines(opts.scored)) {
      const w = wanted.get(line.lineNo);
      if (!w) continue;
      const rec = parseRecord(line);
      const document = rec.ok ? textField(rec.value, fields.source, line.lineNo, '--doc-field') : rec;
      const summary = rec.ok ? textField(rec.value, fields.summary, line.lineNo, '--summary-field') : rec;
      if (!document.ok || !summary.ok) {
        const err = !document.ok ? document.error.message : !summary.ok ? summary.error.message : '';
        throw new BatchInputError(`${opts.scored} ${err}; the scored file needs the texts (quals batch --keep document,summary,role).`);
      }
      outs[w.kind].append({ id: w.id, document: document.value, summary: summary.value, score: w.score });
      const other = halves.get(w.id);
      if (!other) {
        halves.set(w.id, { kind: w.kind, document: document.value, summary: summary.value, score: w.score });
        continue;
      }
      halves.delete(w.id);
      const [p, n] = w.kind === 'positive' ? [{ summary: summary.value, score: w.score }, other] : [other, { summary: summary.value, score: w.score }];
      outs.pairs.append({ id: w.id, document: document.value, positive: p.summary, negative: n.summary, positiveScore: p.score, negativeScore: n.score });
    }
    const result: ConseqStats = {
      ...stats,
      documents: table.length,
      documentsWithoutReference: noRef,
      documentsWithoutScoredSample: noSample,
      negativePercent: opts.negativePercent,
      positivePercent: opts.positivePercent,
      negativeSet: sel.negatives.size,
      positiveSet: sel.positives.size,
      trainingSet: sel.training.length,
      negativeCutoff: sel.negativeCutoff,
      positiveCutoff: sel.positiveCutoff,
      rule,
      scoreMode,
      linesWithoutMode,
      unscoredTaken: sel.unscoredTaken,
      files: OUTPUT_FILES.map((f) => join(opts.outDir, f)),
    };
    outs.positive.commit();
    outs.negative.commit();
    outs.pairs.commit();
    writeFileAtomic(join(opts.outDir, 'stats.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    for (const o of Object.values(outs)) o.abort();
  }
}

/** A usable scored line, or the reason it is skipped. */
function parseScoredLine(text: string, lineNo: number, fields: ConseqFields): ScoredLine | string {
  const rec = parseRecord({ lineNo, text });
  if (!rec.ok) return rec.error.message;
  const r: JsonRecord = rec.value;
  if (r.status === 'error') return `line ${lineNo}: a batch error record (${String((r.error as { message?: unknown })?.message ?? 'no message')})`;
  const id = recordId(r, fields.id);
  if (id === null) return `line ${lineNo}: no document id (${fields.id.map((f) => `"${f}"`).join(' or ')}; name it with --id-field)`;
  const role = r[fields.role];
  if (role !== 'reference' && role !== 'sample') return `line ${lineNo}: field "${fields.role}" must be "reference" or "sample"`;
  const score = r[fields.score];
  if (score !== null && (typeof score !== 'number' || !Number.isFinite(score))) return `line ${lineNo}: field "${fields.score}" must be a number or null`;
  const mode = typeof r.mode === 'string' ? r.mode : undefined;
  return { id: String(id), role, score: score as number | null, mode };
}
