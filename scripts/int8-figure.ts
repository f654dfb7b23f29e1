/**
 * The int8 variant on the toy model: `node --import tsx scripts/int8-figure.ts [cases=48]`.
 *
 * The committed toy (models/tiny-qagen) ships fp32 graphs only and its training weights are not in
 * the repository, so this reads its fp32 weights back out of the ONNX files
 * (src/modelgen/onnx-weights.ts), checks that the builder turns them into byte-identical fp32
 * graphs (so nothing was lost), and writes a copy with the int8 variant into .cache/tiny-qagen-int8. Then, at the toy's own quals.json settings, fp32 and int8 score the
 * held-out set (models/tiny-qagen/evaluate.ts's cases) and every example in examples/, interleaved:
 * mean |delta QUALS|, whether the same pairs are flagged (score below the default threshold), the
 * held-out AUCs of both, and the time of each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEngine } from '../src/scoring/engine';
import type { QualsEngine } from '../src/scoring/engine-api';
import { DEFAULT_PAIR_THRESHOLD } from '../src/scoring/options';
import type { QualsResult } from '../src/scoring/result';
import { evalSet } from '../models/tiny-qagen/corpus';
import { KINDS, auc } from '../models/tiny-qagen/evaluate';
import { writeInt8Copy } from '../models/tiny-qagen/int8-copy';

const TOY = 'models/tiny-qagen';
const OUT = path.resolve('.cache/tiny-qagen-int8');

function buildCopy(): void {
  writeInt8Copy(TOY, OUT);
}

/** Every (source, summary) of examples/: sources/x.txt with summaries/x.txt, boxing.md with boxing.summary.md, news.jsonl's records. */
function examples(): { id: string; source: string; summary: string }[] {
  const read = (f: string) => fs.readFileSync(path.join('examples', f), 'utf8');
  const out = fs.readdirSync('examples/sources').sort().map((f) => ({ id: f, source: read(`sources/${f}`), summary: read(`summaries/${f}`) }));
  out.push({ id: 'boxing.md', source: read('boxing.md'), summary: read('boxing.summary.md') });
  for (const line of read('news.jsonl').split('\n').filter((l) => l.trim())) {
    const r = JSON.parse(line) as { id: string; document: string; summary: string };
    out.push({ id: r.id, source: r.document, summary: r.summary });
  }
  return out;
}

const flagged = (r: QualsResult) => r.pairs.filter((p) => p.score < DEFAULT_PAIR_THRESHOLD).map((p) => `${p.question} -> ${p.answer}`).sort().join(' | ');

interface Tally {
  n: number;
  absDelta: number;
  maxDelta: number;
  sameFlags: number;
  sameNull: number;
  ms: { fp32: number; int8: number };
}

async function both(engines: { fp32: QualsEngine; int8: QualsEngine }, source: string, summary: string, t: Tally, odd: boolean): Promise<[QualsResult, QualsResult]> {
  const run = async (v: 'fp32' | 'int8') => {
    const t0 = performance.now();
    const r = await engines[v].score({ source, summary });
    t.ms[v] += performance.now() - t0;
    return r;
  };
  // Alternate the order, so neither variant always runs on a warm cache.
  let a: QualsResult;
  let b: QualsResult;
  if (odd) {
    a = await run('fp32');
    b = await run('int8');
  } else {
    b = await run('int8');
    a = await run('fp32');
  }
  t.n++;
  if (a.score === null || b.score === null) t.sameNull += a.score === b.score ? 1 : 0;
  else {
    const d = Math.abs(a.score - b.score);
    t.absDelta += d;
    t.maxDelta = Math.max(t.maxDelta, d);
  }
  if (flagged(a) === flagged(b)) t.sameFlags++;
  return [a, b];
}

const tally = (): Tally => ({ n: 0, absDelta: 0, maxDelta: 0, sameFlags: 0, sameNull: 0, ms: { fp32: 0, int8: 0 } });
const line = (label: string, t: Tally, scored: number) =>
  `${label}: ${t.n} summaries; mean |delta QUALS| ${(t.absDelta / Math.max(1, scored)).toFixed(4)} (max ${t.maxDelta.toFixed(4)}) over ${scored} scored by both; ` +
  `same flagged pairs ${t.sameFlags}/${t.n}; time fp32 ${(t.ms.fp32 / 1000).toFixed(1)} s, int8 ${(t.ms.int8 / 1000).toFixed(1)} s (fp32 / int8 ${(t.ms.fp32 / t.ms.int8).toFixed(2)}x)`;

async function main(): Promise<void> {
  const cases = Number(process.argv[2] ?? 48);
  buildCopy();
  console.log(`${OUT}: the toy's weights read back (fp32 graphs byte-identical to ${TOY}'s), with the quals-step graphs and the int8 variant`);
  const engines = { fp32: await createEngine({ model: OUT, device: 'cpu' }), int8: await createEngine({ model: OUT, device: 'cpu', variant: 'int8' }) };
  try {
    const ex = tally();
    let exScored = 0;
    for (const [i, e] of examples().entries()) {
      const [a, b] = await both(engines, e.source, e.summary, ex, i % 2 === 1);
      if (a.score !== null && b.score !== null) exScored++;
      console.log(`  ${e.id.padEnd(18)} fp32 ${a.score?.toFixed(3) ?? 'no pairs'}  int8 ${b.score?.toFixed(3) ?? 'no pairs'}  flagged ${flagged(a) === flagged(b) ? 'same' : `DIFFER: fp32 [${flagged(a)}] int8 [${flagged(b)}]`}`);
    }
    console.log(line('examples/', ex, exScored));

    const held = tally();
    let heldScored = 0;
    const scores = { fp32: { faithful: [] as number[], ...Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) }, int8: { faithful: [] as number[], ...Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) } } as Record<'fp32' | 'int8', Record<string, number[]>>;
    for (const [i, c] of evalSet(1, cases).entries()) {
      const summaries: [string, string][] = [['faithful', c.faithful], ...KINDS.map((k) => [k, c.corrupted[k].summary] as [string, string])];
      for (const [j, [kind, summary]] of summaries.entries()) {
        const [a, b] = await both(engines, c.source, summary, held, (i + j) % 2 === 1);
        if (a.score !== null) scores.fp32[kind]!.push(a.score);
        if (b.score !== null) scores.int8[kind]!.push(b.score);
        if (a.score !== null && b.score !== null) heldScored++;
      }
      process.stderr.write(`\r${i + 1}/${cases}`);
    }
    process.stderr.write('\n');
    console.log(line(`held-out set (${cases} cases x 4 summaries)`, held, heldScored));
    for (const v of ['fp32', 'int8'] as const) {
      console.log(`  ${v} AUC faithful vs ${KINDS.map((k) => `${k} ${auc(scores[v].faithful!, scores[v][k]!).toFixed(3)}`).join(', ')}`);
    }
  } finally {
    await engines.fp32.dispose();
    await engines.int8.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
