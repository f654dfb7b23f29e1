/**
 * The human-readable `quals score` report: the score, the pairs worst first, and the summary with
 * suspect answer spans marked. Colour only on a terminal and never with NO_COLOR.
 */
import type { QaPairResult, QualsResult } from '../scoring/result';

export interface ReportStyle {
  color: boolean;
  /** Pairs scoring below this are flagged as suspect. */
  threshold: number;
}

const ansi = (code: string, on: boolean) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

export function formatScore(x: number): string {
  return (x >= 0 ? ' ' : '') + x.toFixed(3);
}

export function renderReport(result: QualsResult, summary: string, style: ReportStyle): string {
  const red = ansi('31', style.color);
  const bold = ansi('1', style.color);
  const dim = ansi('2', style.color);
  const lines: string[] = [];
  const model = `${result.model.name} (${result.model.format}, ${result.model.device})`;
  if (result.status === 'no-pairs') {
    lines.push(`${bold('QUALS: no score')}  ${result.message ?? 'No answerable QA pairs.'}`);
    lines.push(dim(`model ${model}; ${result.candidates.generated} sequences generated, ${result.candidates.wellFormed} well-formed, none answerable from the summary`));
    return lines.join('\n');
  }
  const flagged = result.pairs.filter((p) => p.score < style.threshold);
  lines.push(`${bold(`QUALS ${formatScore(result.score!)}`)}  ${result.pairs.length} QA pairs, ${flagged.length} suspect (pair score < ${style.threshold})`);
  lines.push(dim(`model ${model}; mode ${result.mode}; ${result.timings.totalMs.toFixed(0)} ms`));
  if (result.source.truncated) {
    lines.push(red(`source truncated: the model saw ${result.source.tokensKept} of ${result.source.tokensTotal} tokens (up to character ${result.source.charsKept})`));
  }
  lines.push('', bold('Pairs, worst first:'));
  const sorted = [...result.pairs].sort((a, b) => a.score - b.score);
  for (const p of sorted) lines.push(renderPair(p, p.score < style.threshold, red));
  lines.push('', bold('Summary (suspect answers in [[ ]]):'));
  lines.push(markSpans(summary, flagged, red));
  return lines.join('\n');
}

function renderPair(p: QaPairResult, suspect: boolean, red: (s: string) => string): string {
  const mark = suspect ? red('✗') : '✓';
  const says = p.sourceAnswer ? (p.sourceAnswer.agrees ? 'source agrees' : `source says "${p.sourceAnswer.text}"`) : '';
  const head = `  ${mark} ${formatScore(p.score)}  ${p.question}  →  "${p.answer}"`;
  const detail = `      LL_source ${p.llSource.toFixed(3)}  LL_summary ${p.llSummary.toFixed(3)}${says ? `  ·  ${says}` : ''}`;
  return `${suspect ? red(head) : head}\n${detail}`;
}

function markSpans(summary: string, flagged: readonly QaPairResult[], red: (s: string) => string): string {
  const spans = flagged
    .flatMap((p) => p.spans.slice(0, 1))
    .sort((a, b) => a.start - b.start)
    .filter((s, i, all) => i === 0 || s.start >= all[i - 1]!.end);
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += summary.slice(at, s.start) + red(`[[${summary.slice(s.start, s.end)}]]`);
    at = s.end;
  }
  return out + summary.slice(at);
}
