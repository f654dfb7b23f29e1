/**
 * Measures where QUALS puts its squiggles: on the toy model's held-out corrupted summaries, does a
 * finding cover the corrupted word? Token-level localisation (src/scoring/localise.ts) beside the
 * old rule (each flagged pair's first answer span), plus false alarms on the faithful summaries
 * and the findings on examples/news.jsonl. Reported for all sources and separately for sources 1-48
 * (used to tune the toy model and the localisation rules), 49-96 (nothing was tuned on them) and,
 * with cases > 96, 97 onwards (sources that no figure quoted before was measured on).
 *
 *   npx tsx scripts/localisation-figure.ts [cases=96] [model=models/tiny-qagen]
 */
import { readFileSync } from 'node:fs';
import { evalSet, type CorruptionKind } from '../models/tiny-qagen/corpus';
import { createEngine } from '../src/scoring/engine';
import { findingMessage, isFlagged, localise } from '../src/scoring/localise';
import { DEFAULT_PAIR_THRESHOLD } from '../src/scoring/options';
import type { QualsResult } from '../src/scoring/result';

const KINDS: CorruptionKind[] = ['swap', 'number', 'invented'];
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The corrupted word's offsets: it sits in the summary's first sentence (the corrupted fact comes first). */
function wordAt(summary: string, word: string): { start: number; end: number } | null {
  const m = new RegExp(`(?<![A-Za-z0-9])${escapeRe(word)}(?![A-Za-z0-9])`).exec(summary.slice(0, summary.indexOf('.') + 1));
  return m ? { start: m.index, end: m.index + word.length } : null;
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && a.end > b.start;

function oldRanges(r: QualsResult, threshold: number) {
  return r.status === 'ok' ? r.pairs.filter((p) => isFlagged(p, threshold) && p.spans[0]).map((p) => p.spans[0]!) : [];
}

const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;

/** Which slice of the evaluation set a source (0-based) belongs to. */
const SLICES = [
  { name: 'sources 1-48 (tuned on)', from: 0, to: 48 },
  { name: 'sources 49-96', from: 48, to: 96 },
  { name: 'sources 97+ (fresh)', from: 96, to: Infinity },
];
interface Tally { total: number; hit: number; oldHit: number; faithful: number; faithfulNew: number; faithfulOld: number }
const tally = (): Tally => ({ total: 0, hit: 0, oldHit: 0, faithful: 0, faithfulNew: 0, faithfulOld: 0 });

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 96);
  const model = process.argv[3] ?? 'models/tiny-qagen';
  const threshold = DEFAULT_PAIR_THRESHOLD;
  const engine = await createEngine({ model, device: 'cpu' });
  try {
    const rows: string[] = [];
    let total = 0;
    let oldHit = 0;
    let newHit = 0;
    let newOnlyOnWord = 0;
    let faithfulWithOld = 0;
    let faithfulWithNew = 0;
    let oldFindings = 0;
    let newFindings = 0;
    const perKind = Object.fromEntries(KINDS.map((k) => [k, { n: 0, old: 0, neu: 0 }]));
    const slices = SLICES.map(tally);
    const cases = evalSet(1, n);
    for (const [i, c] of cases.entries()) {
      const slice = slices[SLICES.findIndex((x) => i >= x.from && i < x.to)]!;
      const f = await engine.score({ source: c.source, summary: c.faithful });
      slice.faithful++;
      if (oldRanges(f, threshold).length) (faithfulWithOld++, slice.faithfulOld++);
      if (localise(f, c.faithful, { threshold }).length) (faithfulWithNew++, slice.faithfulNew++);
      for (const kind of KINDS) {
        const k = c.corrupted[kind];
        const r = await engine.score({ source: c.source, summary: k.summary });
        const word = wordAt(k.summary, k.corrupted);
        if (!word) continue;
        total++;
        slice.total++;
        perKind[kind]!.n++;
        const old = oldRanges(r, threshold);
        const found = localise(r, k.summary, { threshold });
        oldFindings += old.length;
        newFindings += found.length;
        if (old.some((s) => overlaps(s, word))) (oldHit++, slice.oldHit++, perKind[kind]!.old++);
        if (found.some((s) => overlaps(s, word))) (newHit++, slice.hit++, perKind[kind]!.neu++);
        else rows.push(`  miss ${kind} #${i} (${k.original} -> ${k.corrupted}) "${k.summary}": ${found.map(findingMessage).join(' | ') || 'no finding'}`);
        if (found.length > 0 && found.every((s) => overlaps(s, word))) newOnlyOnWord++;
      }
      process.stderr.write(`\r${i + 1}/${n}`);
    }
    process.stderr.write('\n');
    console.log(`Held-out corrupted summaries (toy model, ${n} sources, threshold ${threshold}): ${total}`);
    console.log(`  squiggle covers the corrupted word: token-level ${newHit}/${total} (${pct(newHit, total)}); old answer span ${oldHit}/${total} (${pct(oldHit, total)})`);
    for (const kind of KINDS) {
      const m = perKind[kind]!;
      console.log(`    ${kind.padEnd(8)} token-level ${pct(m.neu, m.n).padStart(6)}   answer span ${pct(m.old, m.n).padStart(6)}`);
    }
    console.log(`  every squiggle on the corrupted word: ${pct(newOnlyOnWord, total)}; squiggles per corrupted summary: token-level ${(newFindings / total).toFixed(2)}, old ${(oldFindings / total).toFixed(2)}`);
    console.log(`  faithful summaries with a squiggle: token-level ${faithfulWithNew}/${cases.length}, old ${faithfulWithOld}/${cases.length}`);
    for (const [k, t] of slices.entries()) {
      if (t.faithful === 0) continue;
      console.log(`  ${SLICES[k]!.name.padEnd(24)} covers the word: token-level ${t.hit}/${t.total} (${pct(t.hit, t.total)}), old ${t.oldHit}/${t.total} (${pct(t.oldHit, t.total)}); faithful with a squiggle: token-level ${t.faithfulNew}/${t.faithful}, old ${t.faithfulOld}/${t.faithful}`);
    }
    const lines = readFileSync('examples/news.jsonl', 'utf8').split('\n').filter((l) => l.trim());
    console.log('examples/news.jsonl:');
    for (const [i, line] of lines.entries()) {
      const row = JSON.parse(line) as { document: string; summary: string; label: string };
      const r = await engine.score({ source: row.document, summary: row.summary });
      const found = localise(r, row.summary, { threshold });
      const old = oldRanges(r, threshold).map((s) => row.summary.slice(s.start, s.end));
      console.log(`  line ${i + 1} ${row.label}: ${found.map((f) => `[${f.text}] ${findingMessage(f)}`).join(' | ') || 'no finding'}   (old: ${old.join(', ') || 'none'})`);
    }
    for (const row of rows) console.log(row);
  } finally {
    await engine.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
