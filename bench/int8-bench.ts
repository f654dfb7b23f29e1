/**
 * The int8 variant against fp32 on the BART-base-shaped bench model (.cache/bench-model, written
 * with both variants by src/modelgen/random-bart.ts): one QUALS call's model work with the
 * reference settings (60 beams / 60 groups, summary ~60 tokens, source ~1,000 tokens, 10 pairs
 * teacher-forced and answered from the source), fp32 and int8 interleaved, stage by stage; the
 * ratio fp32 / int8 as min and median over the pairs; peak RSS of each in a fresh child process;
 * and how far int8 moves the numbers (teacher-forced log-probabilities, hypotheses).
 * QUALS_BENCH_REPEATS (default 3), QUALS_BENCH_MODEL, QUALS_BENCH_DEVICE (cpu | auto).
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import type { ModelVariant } from '../src/scoring/engine-api';
import { ensureTestModel } from '../src/modelgen/random-bart';
import { type LoadedModel, loadModel } from '../src/scoring/model/loader';
import { DEFAULT_OPTIONS } from '../src/scoring/options';
import { median } from './probes';
import { benchEntry, peakRssSinceReset } from './peak-rss';
import { BENCH_SOURCE } from './bench-text';
import { benchCall } from './bench-call';

const device = (process.env.QUALS_BENCH_DEVICE ?? 'cpu') as 'cpu' | 'auto';
const dir = resolve(process.env.QUALS_BENCH_MODEL ?? '.cache/bench-model');
const repeats = Math.max(1, Number(process.env.QUALS_BENCH_REPEATS ?? 3));
const o = DEFAULT_OPTIONS;
const TARGET = 1.8;


interface Call {
  stages: Record<string, number>;
  total: number;
  hyps: number[][];
}

/** One QUALS call's model work (./bench-call.ts), timed stage by stage. */
async function oneCall(model: LoadedModel): Promise<Call> {
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  const r = await benchCall(model, async (name, fn) => {
    const t = performance.now();
    const out = await fn();
    stages[name] = performance.now() - t;
    return out;
  });
  return { stages, total: performance.now() - t0, hyps: r.hyps.map((h) => h.tokens) };
}

/** Child mode: load one variant, a cold and a warm call, then the peak RSS. */
async function rssChild(variant: ModelVariant): Promise<void> {
  peakRssSinceReset();
  const model = await loadModel({ model: dir, device, variant });
  const peaks = [peakRssSinceReset()];
  await oneCall(model);
  await oneCall(model);
  peaks.push(peakRssSinceReset());
  const known = peaks.filter((p): p is number => p !== null);
  // Not ru_maxrss: a spawned child inherits the bench's high-water mark (./peak-rss.ts).
  console.log(JSON.stringify({ maxRss: known.length ? Math.max(...known) : null }));
  await model.dispose();
}

function measureRss(variant: ModelVariant): number | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/int8-bench.ts', '--rss', variant], { encoding: 'utf8' });
  try {
    return (JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { maxRss: number | null }).maxRss;
  } catch {
    return null;
  }
}

const fmt = (x: number, digits = 0) => x.toFixed(digits);

async function main(): Promise<void> {
  const t = performance.now();
  ensureTestModel(dir, { size: 'base', seed: 7 });
  console.log(`model: ${dir} (ready in ${fmt((performance.now() - t) / 1000, 1)} s), ${repeats} repeats, fp32 and int8 interleaved`);
  const fp32 = await loadModel({ model: dir, device });
  const int8 = await loadModel({ model: dir, device, variant: 'int8' });
  console.log(`designs: fp32 ${fp32.seq2seq.design}, int8 ${int8.seq2seq.design}; provider ${int8.seq2seq.provider}`);

  // The first call after loading pays one-time costs (allocations for new shapes, weight pre-packing).
  const cold = [await oneCall(fp32), await oneCall(int8)];
  console.log(`first (cold) call: fp32 ${fmt(cold[0]!.total)} ms, int8 ${fmt(cold[1]!.total)} ms`);
  const a: Call[] = [];
  const b: Call[] = [];
  for (let r = 0; r < repeats; r++) {
    // Alternate which variant goes first, so a slow moment of the machine does not favour one.
    if (r % 2 === 0) {
      a.push(await oneCall(fp32));
      b.push(await oneCall(int8));
    } else {
      b.push(await oneCall(int8));
      a.push(await oneCall(fp32));
    }
  }

  console.log(`\nOne QUALS call, reference settings (${o.numBeams} beams / ${o.numBeamGroups} groups, ${o.maxPairs} pairs): fp32 / int8 (> 1 = int8 faster)`);
  console.log(`${'stage'.padEnd(20)}${'fp32 min'.padStart(10)}${'fp32 med'.padStart(10)}${'int8 min'.padStart(10)}${'int8 med'.padStart(10)}${'best'.padStart(8)}${'pair min'.padStart(10)}${'pair med'.padStart(10)}`);
  const row = (name: string, x: number[], y: number[]) => {
    const pairs = x.map((v, i) => v / y[i]!);
    console.log(`${name.padEnd(20)}${fmt(Math.min(...x)).padStart(10)}${fmt(median(x)).padStart(10)}${fmt(Math.min(...y)).padStart(10)}${fmt(median(y)).padStart(10)}` +
      `${fmt(Math.min(...x) / Math.min(...y), 2).padStart(7)}x${fmt(Math.min(...pairs), 2).padStart(9)}x${fmt(median(pairs), 2).padStart(9)}x`);
    return pairs;
  };
  for (const name of Object.keys(a[0]!.stages)) row(name, a.map((c) => c.stages[name]!), b.map((c) => c.stages[name]!));
  const total = row('total', a.map((c) => c.total), b.map((c) => c.total));
  const best = Math.min(...a.map((c) => c.total)) / Math.min(...b.map((c) => c.total));
  console.log(`target int8 >= ${TARGET}x fp32 -> ${best >= TARGET ? 'met' : 'NOT met'} (fastest ${fmt(best, 2)}x, pairs median ${fmt(median(total), 2)}x)`);

  // How much int8 moves the numbers on this random model (the toy model's scores: scripts/int8-figure.ts).
  // Both variants teacher-force the same targets (fp32's first 10 hypotheses) under the source.
  const targets = a[0]!.hyps.slice(0, o.maxPairs);
  const ll = async (m: LoadedModel) => {
    const rows = await m.seq2seq.teacherForce(await m.seq2seq.encode(m.format.encodeInput(BENCH_SOURCE).ids), targets, o.maxLogitsFloats);
    return rows.map((r) => r.reduce((x, y) => x + y, 0) / r.length);
  };
  const [la, lb] = [await ll(fp32), await ll(int8)];
  const dLl = la.map((v, i) => Math.abs(v - lb[i]!));
  const fpSet = new Set(a[0]!.hyps.map((h) => h.join()));
  const shared = b[0]!.hyps.filter((h) => fpSet.has(h.join())).length;
  console.log(`\nint8 vs fp32 outputs (a random model: flat distributions, so the search is fragile): the same ${targets.length} targets teacher-forced under the source, mean |delta| of their mean log-prob ${fmt(dLl.reduce((x, y) => x + y, 0) / dLl.length, 4)} nats (max ${fmt(Math.max(...dLl), 4)}); int8 hypotheses also among fp32's ${shared}/${b[0]!.hyps.length}`);

  await fp32.dispose();
  await int8.dispose();
  console.log(`\npeak RSS of a process that loads the model and runs two calls (fresh child per variant):`);
  const rss: Record<string, number | null> = {};
  for (const v of ['fp32', 'int8'] as const) {
    rss[v] = measureRss(v);
    console.log(`  ${v.padEnd(6)} ${rss[v] === null ? 'not measured' : `${fmt(rss[v]! / 2 ** 30, 2)} GiB`}`);
  }
  if (rss.fp32 && rss.int8) console.log(`  int8 / fp32 ${fmt(rss.int8 / rss.fp32, 2)}`);
}

benchEntry(main, ([variant]) => rssChild(variant as ModelVariant));
