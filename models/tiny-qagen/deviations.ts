/**
 * The measured effect of each of paper mode's deviations from the authors' code on the toy
 * held-out set (docs/quals-engine.md, "Deviations from the reference code"): the toy evaluation
 * with all deviations on (paper mode), then with each one switched off (that step done as the
 * authors do), then the authors' search, then reference mode (the authors' pipeline end to end).
 * Settings: the model's quals.json. Usage:
 *
 *   node --import tsx models/tiny-qagen/deviations.ts [cases=48]
 */
import path from 'node:path';
import type { QualsEngine } from '../../src/scoring/engine-api';
import { loadModel } from '../../src/scoring/model/loader';
import { resolveOptions, type QualsOptions } from '../../src/scoring/options';
import { type PaperDeviations, scoreQuals } from '../../src/scoring/quals';
import { evalSet } from './corpus';
import { evaluate, KINDS } from './evaluate';

const MODEL = path.resolve(__dirname);
const N = Number(process.argv[2] ?? 48);

const CONFIGS: [string, Partial<PaperDeviations>, Partial<QualsOptions>][] = [
  ['paper mode (all deviations)', {}, {}],
  ['1 keep empty answers', { dropEmptyAnswers: false }, {}],
  ['2 substring answers', { wholeWord: false }, {}],
  ['3 cap between passes', { exactCap: false }, {}],
  ['6 duplicate uses its turn', { duplicateKeepsTurn: false }, {}],
  ['4 LL_S = generation score', { teacherForcedLlS: false }, {}],
  ['7 fairseq search', {}, { beamSearch: 'fairseq' }],
  ['reference mode', {}, { mode: 'reference' }],
];

async function main(): Promise<void> {
  const model = await loadModel({ model: MODEL, device: 'cpu', threads: 1 });
  const cases = evalSet(1, N);
  console.log(`toy held-out set: ${N} sources x (faithful + swap/number/invented); settings: quals.json`);
  console.log('config                        AUC swap/number/invented   wins (of N)   worst pair on word   no-pairs   pairs/summary');
  for (const [name, deviations, o] of CONFIGS) {
    const options = resolveOptions(model.modelOptions, o);
    let pairs = 0;
    let scored = 0;
    const engine = {
      score: async (req: { source: string; summary: string }) => {
        const r = await scoreQuals(model, MODEL, req.source, req.summary, options, undefined, undefined, deviations);
        pairs += r.pairs.length;
        scored++;
        return r;
      },
    } as unknown as QualsEngine;
    const r = await evaluate(engine, cases);
    const k = KINDS.map((x) => r.perKind[x]);
    console.log(
      `${name.padEnd(30)}${k.map((m) => m.auc.toFixed(3)).join('/').padEnd(27)}${k.map((m) => m.wins).join('/').padEnd(14)}` +
        `${k.map((m) => `${Math.round((100 * m.localised) / m.cases)}%`).join('/').padEnd(21)}${String(r.faithfulNoPairs + k.reduce((a, m) => a + m.noPairs, 0)).padEnd(11)}${(pairs / scored).toFixed(2)}`,
    );
  }
  await model.dispose();
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
