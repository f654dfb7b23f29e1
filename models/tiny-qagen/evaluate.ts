/**
 * Behaviour metrics of a QAGen model on the held-out synthetic set, computed through the real
 * engine: does QUALS rank faithful summaries above corrupted ones, does the worst QA pair point at
 * the corrupted word, and does "source says" recover the original fact.
 * Standalone: npx tsx models/tiny-qagen/evaluate.ts [modelDir=models/tiny-qagen] [cases=48] [optionsJson]
 */
import type { QualsEngine } from '../../src/scoring/engine-api';
import type { QaPairResult, QualsResult } from '../../src/scoring/result';
import type { CorruptionKind, EvalCase } from './corpus';

export const KINDS: readonly CorruptionKind[] = ['swap', 'number', 'invented'];

export interface KindMetrics {
  cases: number;
  /** Cases where faithful scored strictly higher (a corrupted summary with no pairs counts as a miss). */
  wins: number;
  /** Area under the ROC curve, faithful (positive) vs corrupted, over cases where both have scores. */
  auc: number;
  /** Corrupted summaries whose worst pair's answer span covers, or question names, the corrupted word. */
  localised: number;
  /**
   * Corrupted summaries where "source says" gives the original word, read from the worst pair
   * whose answer span is on the corrupted word (the pair a quick fix would replace), else the worst pair.
   */
  sourceSaysOriginal: number;
  noPairs: number;
}

export interface EvalReport {
  perKind: Record<CorruptionKind, KindMetrics>;
  faithfulNoPairs: number;
  seconds: number;
  misses: string[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const wordRe = (w: string) => new RegExp(`(?<![A-Za-z0-9])${escapeRe(w)}(?![A-Za-z0-9])`);

/** Mann-Whitney AUC: P(random faithful score > random corrupted score), ties count half. */
export function auc(pos: number[], neg: number[]): number {
  if (!pos.length || !neg.length) return NaN;
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

export function worstPair(r: QualsResult): QaPairResult | undefined {
  return r.pairs.reduce<QaPairResult | undefined>((w, p) => (!w || p.score < w.score ? p : w), undefined);
}

/** Is the pair's answer span on the corrupted word, which sits in the summary's first sentence? */
export function answersOn(pair: QaPairResult, summary: string, word: string): boolean {
  const m = wordRe(word).exec(summary.slice(0, summary.indexOf('.') + 1));
  if (!m) return false;
  const [start, end] = [m.index, m.index + word.length];
  return pair.spans.some((s) => s.start < end && s.end > start);
}

/** Does the pair point at the corrupted word: answer span on it, or a question naming it? */
export function pointsAt(pair: QaPairResult, summary: string, word: string): boolean {
  return answersOn(pair, summary, word) || wordRe(word).test(pair.question);
}

/** Scores every case's faithful and corrupted summaries and aggregates the metrics. */
export async function evaluate(engine: QualsEngine, cases: EvalCase[], onCase?: (i: number) => void): Promise<EvalReport> {
  const t0 = Date.now();
  const perKind = Object.fromEntries(KINDS.map((k) => [k, { cases: 0, wins: 0, auc: NaN, localised: 0, sourceSaysOriginal: 0, noPairs: 0 }])) as Record<CorruptionKind, KindMetrics>;
  const faithfulScores: number[] = [];
  const corruptedScores = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<CorruptionKind, number[]>;
  const misses: string[] = [];
  let faithfulNoPairs = 0;
  for (const [i, c] of cases.entries()) {
    const f = await engine.score({ source: c.source, summary: c.faithful });
    if (f.score === null) faithfulNoPairs++;
    else faithfulScores.push(f.score);
    for (const kind of KINDS) {
      const k = c.corrupted[kind];
      const r = await engine.score({ source: c.source, summary: k.summary });
      const m = perKind[kind];
      m.cases++;
      if (r.score === null) m.noPairs++;
      else corruptedScores[kind].push(r.score);
      if (f.score !== null && r.score !== null && f.score > r.score) m.wins++;
      else misses.push(`${kind} #${i}: faithful ${f.score?.toFixed(3)} "${c.faithful}" vs ${r.score?.toFixed(3)} "${k.summary}"`);
      const worst = worstPair(r);
      if (worst && pointsAt(worst, k.summary, k.corrupted)) m.localised++;
      else misses.push(`${kind} #${i} not localised (${k.corrupted}): worst pair ${worst ? `"${worst.question}" -> "${worst.answer}" ${worst.score.toFixed(3)}` : 'none'}`);
      const onWord = r.pairs.filter((p) => answersOn(p, k.summary, k.corrupted));
      const fixPair = onWord.length ? onWord.reduce((a, b) => (b.score < a.score ? b : a)) : worst;
      if (fixPair?.sourceAnswer?.text.split(/\s+/).includes(k.original)) m.sourceSaysOriginal++;
    }
    onCase?.(i);
  }
  for (const kind of KINDS) perKind[kind].auc = auc(faithfulScores, corruptedScores[kind]);
  return { perKind, faithfulNoPairs, seconds: (Date.now() - t0) / 1000, misses };
}

const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;

/** A small fixed-width table of the report. */
export function formatReport(r: EvalReport): string {
  const lines = ['kind      wins            AUC    worst pair on word   source says original  no pairs'];
  for (const kind of KINDS) {
    const m = r.perKind[kind];
    lines.push(`${kind.padEnd(9)} ${`${m.wins}/${m.cases} (${pct(m.wins, m.cases)})`.padEnd(15)} ${m.auc.toFixed(3)}  ${pct(m.localised, m.cases).padEnd(20)} ${pct(m.sourceSaysOriginal, m.cases).padEnd(21)} ${m.noPairs}`);
  }
  lines.push(`faithful summaries with no pairs: ${r.faithfulNoPairs}; ${r.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const [{ createEngine }, { evalSet }] = await Promise.all([import('../../src/scoring/engine'), import('./corpus')]);
  const model = process.argv[2] ?? 'models/tiny-qagen';
  const n = Number(process.argv[3] ?? 48);
  const options = process.argv[4] ? (JSON.parse(process.argv[4]) as Record<string, unknown>) : undefined;
  const engine = await createEngine({ model, device: 'cpu', options });
  try {
    const report = await evaluate(engine, evalSet(1, n), (i) => process.stderr.write(`\r${i + 1}/${n}`));
    process.stderr.write('\n');
    console.log(formatReport(report));
    for (const m of report.misses) console.log(`  miss ${m}`);
  } finally {
    await engine.dispose();
  }
}

if (process.argv[1]?.endsWith('evaluate.ts')) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
