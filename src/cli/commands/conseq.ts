/** `quals conseq`: builds ConSeq training sets (S+ references, S- worst samples) from scored JSONL. */
import { join } from 'node:path';
import { assertOutputsAreNotInputs } from '../../batch/output-files';
import { buildConseq, DEFAULT_CONSEQ_FIELDS, OUTPUT_FILES, SCORE_MODES, type ConseqFields, type ConseqStats, type ScoreMode } from '../../conseq/build';
import { COUNT_RULES, type CountRule } from '../../conseq/select';
import { EXIT } from '../exit-codes';
import { reportError, usageError } from './batch-shared';
import { parseCommand } from '../parse-command';

const HELP = `Usage: quals conseq --scored FILE.jsonl --out-dir DIR [options]

Builds the ConSeq training data (Nan et al., 2021) as the authors' code does by default: per
document the lowest-QUALS sampled summary is the negative candidate; S- = documents whose negative
candidate is in the bottom 30%; S+ = documents whose reference summary's QUALS is in the top 30%;
the training set = documents in both.

The scored file has one line per (document, summary) pair with a document id, a role
("reference" or "sample"), the texts and the QUALS score, scored in REFERENCE mode as the authors
ranked (their eval_ns - ns), e.g. the output of
  quals batch --mode reference --in pairs.jsonl --out scored.jsonl --keep doc_id,role,document,summary
A line scored in another mode is refused (see --score-mode).

  --scored FILE          scored JSONL
  --out-dir DIR          writes positive.jsonl, negative.jsonl, pairs.jsonl and stats.json
  --negative-percent P   share of documents in S- (default 30)
  --positive-percent P   share of documents in S+ (default 30)
  --id-field NAME        document id field (default "doc_id", else "id")
  --role-field NAME      role field (default "role")
  --doc-field NAME       document text field (default "document", else "article")
  --summary-field NAME   summary text field (default "summary", else "highlights")
  --score-field NAME     QUALS field (default "score")
  --score-mode MODE      the scores the file must hold: reference (default), paper, or any
                         (checked on each line's "mode")
  --count RULE           authors (default): each set takes round(P/100 x N) of all N documents
                         (Python's round), documents without a score (no answerable pairs) rank
                         last and are taken if the count reaches them; rankable: floor(n x P/100)
                         of the n documents with a score, the unscored never taken
  --overwrite            replace existing files in DIR

Ties keep input order. Paper mode instead: --score-mode paper --count rankable (docs/quals-engine.md).
Exit codes: 0 ok, 1 usage, 2 bad input.`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand('conseq', args, {
      scored: { type: 'string' },
      'out-dir': { type: 'string' },
      'negative-percent': { type: 'string' },
      'positive-percent': { type: 'string' },
      'id-field': { type: 'string' },
      'role-field': { type: 'string' },
      'doc-field': { type: 'string' },
      'summary-field': { type: 'string' },
      'score-field': { type: 'string' },
      'score-mode': { type: 'string' },
      count: { type: 'string' },
      overwrite: { type: 'boolean' },
  }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  if (typeof values.scored !== 'string' || typeof values['out-dir'] !== 'string') return usageError('conseq', 'both --scored FILE and --out-dir DIR are needed.');
  const pct = (flag: string): number | string => {
    const raw = values[flag];
    if (raw === undefined) return 30;
    const v = Number(raw);
    return Number.isFinite(v) && v >= 0 && v <= 100 ? v : `--${flag} needs a percentage from 0 to 100 (got "${String(raw)}").`;
  };
  const negativePercent = pct('negative-percent');
  const positivePercent = pct('positive-percent');
  if (typeof negativePercent === 'string') return usageError('conseq', negativePercent);
  if (typeof positivePercent === 'string') return usageError('conseq', positivePercent);
  const scoreMode = (values['score-mode'] ?? 'reference') as ScoreMode;
  if (!SCORE_MODES.includes(scoreMode)) return usageError('conseq', `--score-mode must be one of ${SCORE_MODES.join(', ')} (got "${String(values['score-mode'])}").`);
  const rule = (values.count ?? 'authors') as CountRule;
  if (!COUNT_RULES.includes(rule)) return usageError('conseq', `--count must be one of ${COUNT_RULES.join(', ')} (got "${String(values.count)}").`);
  const str = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const fields: ConseqFields = {
    id: str('id-field') ? [str('id-field')!] : DEFAULT_CONSEQ_FIELDS.id,
    role: str('role-field') ?? DEFAULT_CONSEQ_FIELDS.role,
    source: str('doc-field') ? [str('doc-field')!] : DEFAULT_CONSEQ_FIELDS.source,
    summary: str('summary-field') ? [str('summary-field')!] : DEFAULT_CONSEQ_FIELDS.summary,
    score: str('score-field') ?? DEFAULT_CONSEQ_FIELDS.score,
  };
  try {
    assertOutputsAreNotInputs([values.scored], OUTPUT_FILES.map((f) => join(values['out-dir'] as string, f)));
    const stats = await buildConseq({
      scored: values.scored,
      outDir: values['out-dir'],
      negativePercent,
      positivePercent,
      rule,
      scoreMode,
      fields,
      overwrite: Boolean(values.overwrite),
      warn: (line) => process.stderr.write(`quals conseq: ${line}\n`),
    });
    process.stdout.write(formatStats(stats));
    return EXIT.ok;
  } catch (e) {
    return reportError('conseq', e);
  }
}

export function formatStats(s: ConseqStats): string {
  const cut = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
  const count = (p: number) => (s.rule === 'authors' ? `round(${p}% x ${s.documents} documents)` : `floor(${p}% of the scored)`);
  const unscored = s.unscoredTaken.negative + s.unscoredTaken.positive;
  return [
    `${s.lines} scored lines (${s.badLines} skipped), ${s.documents} documents; ${s.scoreMode}-mode scores, ${s.rule === 'authors' ? "the authors' counting rule" : 'rankable counting rule'}` +
      (s.linesWithoutMode ? ` (${s.linesWithoutMode} lines without a mode)` : ''),
    `  references: ${s.references.scored} scored, ${s.references.noPairs} without answerable pairs; ${s.documentsWithoutReference} documents have no reference line`,
    `  samples:    ${s.samples.scored} scored, ${s.samples.noPairs} without answerable pairs; ${s.documentsWithoutScoredSample} documents have no scored sample`,
    `  S- (bottom ${count(s.negativePercent)} by worst sample): ${s.negativeSet} documents, worst-sample QUALS <= ${cut(s.negativeCutoff)}`,
    `  S+ (top ${count(s.positivePercent)} by reference):       ${s.positiveSet} documents, reference QUALS >= ${cut(s.positiveCutoff)}`,
    ...(unscored ? [`  taken without a score (ranked last, reached by the count): ${s.unscoredTaken.negative} in S-, ${s.unscoredTaken.positive} in S+`] : []),
    `  training set (in both): ${s.trainingSet} documents`,
    `  wrote ${s.files.join(', ')}`,
    '',
  ].join('\n');
}
