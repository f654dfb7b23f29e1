/**
 * The human-readable `quals score` report: the score, the pairs worst first, and the summary with
 * the words the source does not support marked. Colour only on a terminal and never with NO_COLOR.
 */
import { describeSettings, inputNotes } from '../scoring/input-notes';
import { countVerdicts, localise, pairVerdicts, verdictText, type Finding, type PairVerdict } from '../scoring/localise';
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
    lines.push(...headerNotes(result, dim, red));
    return lines.join('\n');
  }
  // One judgement for the pair marks, the counts and the [[ ]] words, the same as the editor's squiggles.
  const findings = localise(result, summary, { threshold: style.threshold });
  const verdicts = pairVerdicts(result, summary, { threshold: style.threshold, shown: findings });
  const n = countVerdicts(verdicts);
  const doubtful = n.doubtful ? `, ${n.doubtful} doubtful` : '';
  lines.push(`${bold(`QUALS ${formatScore(result.score!)}`)}  ${result.pairs.length} QA pairs, ${n.unsupported} unsupported${doubtful} (threshold ${style.threshold})`);
  lines.push(dim(`model ${model}; mode ${result.mode}; ${result.timings.totalMs.toFixed(0)} ms`));
  lines.push(...headerNotes(result, dim, red));
  lines.push('', bold('Pairs, worst first:'));
  const sorted = [...result.pairs].sort((a, b) => a.score - b.score);
  for (const p of sorted) lines.push(renderPair(p, verdicts[p.id] ?? { verdict: 'doubtful' }, red));
  lines.push('', bold('Summary (words the source does not support in [[ ]]):'));
  lines.push(markWords(summary, findings, red));
  return lines.join('\n');
}

/** ✗ unsupported (part of a finding), ? doubtful (with why), ✓ supported. */
function renderPair(p: QaPairResult, v: PairVerdict, red: (s: string) => string): string {
  const suspect = v.verdict === 'unsupported';
  const mark = suspect ? red('✗') : v.verdict === 'doubtful' ? '?' : '✓';
  const says = p.sourceAnswer ? (p.sourceAnswer.agrees ? 'source agrees' : `source says "${p.sourceAnswer.text}"`) : '';
  const head = `  ${mark} ${formatScore(p.score)}  ${p.question}  →  "${p.answer}"`;
  const doubt = v.verdict === 'doubtful' ? `  ·  ${verdictText(v)}` : '';
  const detail = `      LL_source ${p.llSource.toFixed(3)}  LL_summary ${p.llSummary.toFixed(3)}${says ? `  ·  ${says}` : ''}${doubt}`;
  return `${suspect ? red(head) : head}\n${detail}`;
}

/** The words token-level localisation blames (src/scoring/localise.ts): the same words the editor underlines. */
function markWords(summary: string, findings: readonly Finding[], red: (s: string) => string): string {
  const spans = findings.filter((s, i, all) => i === 0 || s.start >= all[i - 1]!.end);
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += summary.slice(at, s.start) + red(`[[${summary.slice(s.start, s.end)}]]`);
    at = s.end;
  }
  return out + summary.slice(at);
}

/** The effective settings and their origins, then how long texts were read (truncation in red). */
function headerNotes(result: QualsResult, dim: (s: string) => string, red: (s: string) => string): string[] {
  const settings = describeSettings(result);
  const notes = inputNotes(result).map((n) => (n.includes('truncated') ? red(n) : n));
  return [...(settings ? [dim(`settings: ${settings}`)] : []), ...notes];
}
