/** `quals conseq`: builds ConSeq training sets (S+ references, S- worst samples) from scored JSONL. */
import { buildConseq, DEFAULT_CONSEQ_FIELDS, type ConseqFields, type ConseqStats } from '../../conseq/build';
import { EXIT } from '../exit-codes';
import { reportError, usageError } from './batch-shared';
import { parseCommand } from '../parse-command';

const HELP = `Usage: quals conseq --scored FILE.jsonl --out-dir DIR [options]

Builds the ConSeq training data (Nan et al., 2021): per document the lowest-QUALS sampled summary
is the negative candidate; S- = documents whose negative candidate is in the bottom 30%; S+ =
documents whose reference summary's QUALS is in the top 30%; the training set = documents in both.

The scored file has one line per (document, summary) pair with a document id, a role
("reference" or "sample"), the texts and the QUALS score, e.g. the output of
  quals batch --in pairs.jsonl --out scored.jsonl --keep doc_id,role,document,summary
Lines without a score (no answerable QA pairs) cannot be ranked and are counted.

  --scored FILE          scored JSONL
  --out-dir DIR          writes positive.jsonl, negative.jsonl, pairs.jsonl and stats.json
  --negative-percent P   share of documents in S- (default 30)
  --positive-percent P   share of documents in S+ (default 30)
  --id-field NAME        document id field (default "doc_id", else "id")
  --role-field NAME      role field (default "role")
  --doc-field NAME       document text field (default "document", else "article")
  --summary-field NAME   summary text field (default "summary", else "highlights")
  --score-field NAME     QUALS field (default "score")
  --overwrite            replace existing files in DIR

Each set takes floor(n x P / 100) of the n rankable documents; ties keep input order.
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
  const str = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const fields: ConseqFields = {
    id: str('id-field') ? [str('id-field')!] : DEFAULT_CONSEQ_FIELDS.id,
    role: str('role-field') ?? DEFAULT_CONSEQ_FIELDS.role,
    source: str('doc-field') ? [str('doc-field')!] : DEFAULT_CONSEQ_FIELDS.source,
    summary: str('summary-field') ? [str('summary-field')!] : DEFAULT_CONSEQ_FIELDS.summary,
    score: str('score-field') ?? DEFAULT_CONSEQ_FIELDS.score,
  };
  try {
    const stats = await buildConseq({
      scored: values.scored,
      outDir: values['out-dir'],
      negativePercent,
      positivePercent,
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
  return [
    `${s.lines} scored lines (${s.badLines} skipped), ${s.documents} documents`,
    `  references: ${s.references.scored} scored, ${s.references.noPairs} without answerable pairs; ${s.documentsWithoutReference} documents have no reference line`,
    `  samples:    ${s.samples.scored} scored, ${s.samples.noPairs} without answerable pairs; ${s.documentsWithoutScoredSample} documents have no scored sample`,
    `  S- (bottom ${s.negativePercent}% by worst sample): ${s.negativeSet} documents, worst-sample QUALS <= ${cut(s.negativeCutoff)}`,
    `  S+ (top ${s.positivePercent}% by reference):       ${s.positiveSet} documents, reference QUALS >= ${cut(s.positiveCutoff)}`,
    `  training set (in both): ${s.trainingSet} documents`,
    `  wrote ${s.files.join(', ')}`,
    '',
  ].join('\n');
}
