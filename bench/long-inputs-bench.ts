/**
 * Cost of long sources (issue 11, item 5): one QUALS call with a source at 1x, 2x and 4x the
 * model's input limit. Paper mode reads a long source in overlapping windows (docs/quals-engine.md,
 * "Long inputs"), so the source-side stages (encode, teacher forcing, "source says") grow linearly
 * with the number of windows while the search on the summary does not. Reference mode truncates:
 * its cost stays flat. Default model: models/tiny-qagen (real QA pairs); QUALS_BENCH_MODEL=folder
 * for another; QUALS_BENCH_DEVICE=cuda for the GPU.
 *
 *   node --import tsx bench/long-inputs-bench.ts
 */
import { resolve } from 'node:path';
import { loadModel } from '../src/scoring/model/loader';
import type { WorkCounters } from '../src/scoring/model/seq2seq';
import { resolveOptions } from '../src/scoring/options';
import { scoreQuals } from '../src/scoring/quals';
import type { QualsResult } from '../src/scoring/result';

const device = (process.env.QUALS_BENCH_DEVICE ?? 'cpu') as 'cpu' | 'cuda' | 'auto';
const model = resolve(process.env.QUALS_BENCH_MODEL ?? 'models/tiny-qagen');
const REPEATS = Number(process.env.QUALS_BENCH_REPEATS ?? 3);
const FILLER = ['The crowd was loud.', 'The mood was tense.', 'Harris joined Brentford in July.', 'Rangers signed Foster for 34 million.'];
const FACT = 'Ruiz scored 55 goals for Burnley.';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const loaded = await loadModel({ model, device });
  let last: WorkCounters | null = null;
  // Work counters (deterministic, unlike wall time on a busy machine): encoder tokens and
  // cross-attention entries (rows x tokens x encoder length) over the whole call.
  const engine = {
    info: { device: loaded.seq2seq.provider },
    score: async (req: { source: string; summary: string; options?: Record<string, unknown> }) => {
      const before = { ...loaded.seq2seq.counters };
      let after = before;
      const r = await scoreQuals(loaded, model, req.source, req.summary, resolveOptions(loaded.modelOptions, req.options), undefined, (_s, c) => (after = c));
      last = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (v as number) - (before as unknown as Record<string, number>)[k]!])) as unknown as WorkCounters;
      return r;
    },
    dispose: () => loaded.dispose(),
  };
  try {
    // Find the limit from a result (tokens the model reads in one input).
    const probe = await engine.score({ source: FILLER.join(' ').repeat(200), summary: FACT, options: { sourceAnswerMaxTokens: 0 } });
    const limit = probe.source.limit ?? probe.source.tokensKept;
    const tokensPerChar = probe.source.tokensTotal / FILLER.join(' ').repeat(200).length;
    await engine.score({ source: FILLER.join(' '), summary: `${FACT} ` }); // warm-up
    console.log(`model ${model} on ${engine.info.device}; input limit ${limit} tokens; ${REPEATS} repeats, median shown`);
    console.log('mode       size  tokens  windows  encode ms  search ms  teacher-forcing ms  source-says ms  total ms  source-side vs 1x  encoder tokens  cross-attn vs 1x');
    for (const mode of ['paper', 'reference'] as const) {
      let base = 0;
      let baseCross = 0;
      for (const k of [1, 2, 4]) {
        // Source of about k x the limit, the fact at its end.
        const chars = Math.floor((k * limit * 0.97) / tokensPerChar) - FACT.length;
        let filler = '';
        for (let i = 0; filler.length < chars; i++) filler += `${FILLER[i % FILLER.length]} `;
        const source = `${filler}${FACT}`;
        const runs: QualsResult[] = [];
        let work: WorkCounters | null = null;
        for (let r = 0; r < REPEATS; r++) {
          // A different summary each repeat defeats the engine's result cache.
          runs.push(await engine.score({ source, summary: r === 0 ? FACT : `${FACT}${' '.repeat(r)}`, options: { mode } }));
          if (r === 0) work = last;
        }
        const w = work as WorkCounters | null;
        if (k === 1) baseCross = w?.decoderCrossAttention ?? 1;
        const t = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
        const sourceSide = t((x) => x.timings.encodeMs + x.timings.teacherForcingMs + x.timings.sourceAnswerMs);
        if (k === 1) base = sourceSide;
        const r0 = runs[0]!;
        console.log(
          `${mode.padEnd(9)}  ${`${k}x`.padStart(4)}  ${String(r0.source.tokensTotal).padStart(6)}  ${String(r0.source.windows?.length ?? (r0.source.truncated ? 'cut' : 1)).padStart(7)}  ` +
            `${t((x) => x.timings.encodeMs).toFixed(1).padStart(9)}  ${t((x) => x.timings.searchMs).toFixed(1).padStart(9)}  ${t((x) => x.timings.teacherForcingMs).toFixed(1).padStart(18)}  ` +
            `${t((x) => x.timings.sourceAnswerMs).toFixed(1).padStart(14)}  ${t((x) => x.timings.totalMs).toFixed(1).padStart(8)}  ${(sourceSide / base).toFixed(2).padStart(16)}x  ${String(w?.encoderTokens ?? '').padStart(14)}  ${((w?.decoderCrossAttention ?? 0) / baseCross).toFixed(2).padStart(15)}x`,
        );
      }
    }
  } finally {
    await engine.dispose();
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
