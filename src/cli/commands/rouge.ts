/** `quals rouge`: ROUGE-1/2/L F1 of summaries against references (one pair, or every line of a JSONL file). */
import { existsSync } from 'node:fs';
import { AtomicJsonl } from '../../batch/atomic';
import { assertOutputsAreNotInputs } from '../../batch/output-files';
import { parseRecord, recordId, textField } from '../../batch/fields';
import { readLines } from '../../batch/jsonl';
import { rouge, type RougeScores } from '../../metrics/rouge';
import { EXIT } from '../exit-codes';
import { readTextFile } from '../read-input';
import { reportError, usageError } from './batch-shared';
import { parseCommand } from '../parse-command';

const HELP = `Usage: quals rouge --summary FILE --reference FILE
       quals rouge --in FILE.jsonl [--out FILE.jsonl] [options]

ROUGE-1, ROUGE-2 and ROUGE-L (longest common subsequence) F1, tokenising like rouge_score:
lower-case, runs of [a-z0-9] are tokens; no stemming.

  --summary FILE, --reference FILE   one pair of text files
  --in FILE              JSONL with a summary and a reference per line
  --out FILE             per-line scores {"line", "id", "rouge1", "rouge2", "rougeL"} (JSONL)
  --summary-field NAME   (default "summary", else "highlights")
  --reference-field NAME (default "reference")
  --id-field NAME        (default "id")
  --json                 print the result (or the averages) as JSON

Prints F1 (x100) for one pair, or the averages over the lines of a file.
Exit codes: 0 ok, 1 usage, 2 bad input.`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand('rouge', args, {
      summary: { type: 'string' },
      reference: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      'summary-field': { type: 'string' },
      'reference-field': { type: 'string' },
      'id-field': { type: 'string' },
      json: { type: 'boolean' },
      overwrite: { type: 'boolean' },
  }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  try {
    if (typeof values.in === 'string') return await runFile(values);
    if (typeof values.summary !== 'string' || typeof values.reference !== 'string') return usageError('rouge', 'give --summary FILE and --reference FILE, or --in FILE.jsonl.');
    const r = rouge(readTextFile(values.summary, 'summary'), readTextFile(values.reference, 'reference'));
    process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatF1(r.rouge1.f1, r.rouge2.f1, r.rougeL.f1)}\n`);
    return EXIT.ok;
  } catch (e) {
    return reportError('rouge', e);
  }
}

async function runFile(values: Record<string, unknown>): Promise<number> {
  const input = values.in as string;
  if (!existsSync(input)) {
    process.stderr.write(`quals rouge: input file not found: ${input}\n`);
    return EXIT.badInput;
  }
  const outPath = typeof values.out === 'string' ? values.out : null;
  if (outPath) assertOutputsAreNotInputs([input], [outPath]);
  if (outPath && existsSync(outPath) && !values.overwrite) {
    process.stderr.write(`quals rouge: ${outPath} already exists; pass --overwrite to replace it.\n`);
    return EXIT.badInput;
  }
  const summaryFields = typeof values['summary-field'] === 'string' ? [values['summary-field']] : ['summary', 'highlights'];
  const referenceFields = typeof values['reference-field'] === 'string' ? [values['reference-field']] : ['reference'];
  const idFields = typeof values['id-field'] === 'string' ? [values['id-field']] : ['id'];
  const out = outPath ? new AtomicJsonl(outPath) : null;
  const sum = { rouge1: 0, rouge2: 0, rougeL: 0 };
  let n = 0;
  let bad = 0;
  try {
    for await (const line of readLines(input)) {
      const rec = parseRecord(line);
      const s = rec.ok ? textField(rec.value, summaryFields, line.lineNo, '--summary-field') : rec;
      const r = rec.ok ? textField(rec.value, referenceFields, line.lineNo, '--reference-field') : rec;
      const id = rec.ok ? recordId(rec.value, idFields) : null;
      if (!s.ok || !r.ok) {
        const error = !s.ok ? s.error : !r.ok ? r.error : null;
        bad++;
        process.stderr.write(`quals rouge: ${error!.message}\n`);
        out?.append({ line: line.lineNo, id, status: 'error', error });
        continue;
      }
      const scores: RougeScores = rouge(s.value, r.value);
      sum.rouge1 += scores.rouge1.f1;
      sum.rouge2 += scores.rouge2.f1;
      sum.rougeL += scores.rougeL.f1;
      n++;
      out?.append({ line: line.lineNo, id, rouge1: scores.rouge1.f1, rouge2: scores.rouge2.f1, rougeL: scores.rougeL.f1 });
    }
    out?.commit();
  } finally {
    out?.abort();
  }
  const mean = n ? { rouge1: sum.rouge1 / n, rouge2: sum.rouge2 / n, rougeL: sum.rougeL / n } : null;
  if (values.json) process.stdout.write(`${JSON.stringify({ pairs: n, badLines: bad, mean })}\n`);
  else process.stdout.write(`${n} pairs${bad ? `, ${bad} bad lines skipped` : ''}: ${mean ? formatF1(mean.rouge1, mean.rouge2, mean.rougeL) : 'no scorable pairs'}\n`);
  return EXIT.ok;
}

function formatF1(r1: number, r2: number, rl: number): string {
  return `ROUGE-1 ${(r1 * 100).toFixed(2)}  ROUGE-2 ${(r2 * 100).toFixed(2)}  ROUGE-L ${(rl * 100).toFixed(2)}`;
}
