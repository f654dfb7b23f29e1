/**
 * QUALS latency benchmark on a BART-base-shaped random model (d_model 768, 6+6 layers, 12 heads,
 * vocab 50265), generated once into .cache/bench-model (both decoder designs: the Optimum merged
 * decoder and the project's `quals-step` graphs). One QUALS call with the reference search
 * settings (summary ~60 tokens, source ~1,000 tokens), stage by stage, repeated and interleaved:
 * - against an honest floor: per stage the larger of FLOPs / the best MatMul throughput seen by
 *   probes run between the timed calls (bench/probes.ts, several shapes) and bytes each decoder
 *   call must read (weights, the batch-1 cross-attention cache, the self-attention cache) / the
 *   best measured memory bandwidth;
 * - the `quals-step` design against the merged decoder (same model, same calls);
 * - peers on the same model: a naive onnxruntime-node loop (bench/naive-loop.ts) at 60 and 10
 *   beams, @huggingface/transformers greedy and @xenova/transformers 2.x beam search when
 *   installed (`node bench/install-peers.mjs`);
 * - peak RSS of one call, in a fresh child process per design (and for quals-step with ONNX
 *   Runtime's CPU arena off), with the RSS after loading and the peak reached in each stage.
 *
 * A random model rarely emits a well-formed (question, separator, answer) sequence, so after the
 * search the bench scores the first 10 hypotheses as if they were the selected pairs: the same
 * calls, shapes and amounts of work as a real QUALS call with 10 selected pairs.
 * QUALS_BENCH_REPEATS (default 3), QUALS_BENCH_DEVICE (cpu | cuda | auto), QUALS_BENCH_PEERS=0.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { ensureTestModel } from '../src/modelgen/random-bart';
import { beamSearch, greedyDecode } from '../src/scoring/model/generate';
import { type LoadedModel, loadModel } from '../src/scoring/model/loader';
import { type WorkCounters, emptyCounters } from '../src/scoring/model/seq2seq';
import { DEFAULT_OPTIONS } from '../src/scoring/options';
import { NaiveLoop } from './naive-loop';
import { Probes, median } from './probes';
import { benchEntry, peakRssSinceReset } from './peak-rss';
import { BENCH_SUMMARY } from './bench-text';
import { STAGES, benchCall } from './bench-call';

const device = (process.env.QUALS_BENCH_DEVICE ?? 'cpu') as 'cpu' | 'cuda' | 'auto';
const dir = resolve(process.env.QUALS_BENCH_MODEL ?? '.cache/bench-model');
const repeats = Math.max(1, Number(process.env.QUALS_BENCH_REPEATS ?? 3));
const peersDir = resolve('.cache/bench-peers');


interface Dims {
  D: number;
  F: number;
  Le: number;
  Ld: number;
  V: number;
}

/** FLOPs of the work a counters delta describes (multiply-add = 2 FLOPs; softmax and norms ignored). */
function flops(w: WorkCounters, d: Dims): number {
  const encoderPerToken = d.Le * 2 * (4 * d.D * d.D + 2 * d.D * d.F);
  const crossKvPerToken = d.Ld * 2 * (2 * d.D * d.D);
  const decoderPerToken = d.Ld * 2 * (6 * d.D * d.D + 2 * d.D * d.F) + 2 * d.D * d.V;
  return (
    w.encoderTokens * encoderPerToken +
    w.encoderAttention * d.Le * 4 * d.D +
    w.crossKvTokens * crossKvPerToken +
    w.decoderTokens * decoderPerToken +
    (w.decoderSelfAttention + w.decoderCrossAttention) * d.Ld * 4 * d.D
  );
}

/**
 * Bytes the work must read at least once per call (float32): the encoder's weights and the
 * cross-attention projections per text, every decoder call's weights (LM head included), the
 * batch-1 cross-attention cache and the cached self-attention rows.
 */
function bytes(w: WorkCounters, d: Dims): number {
  const encoderWeights = 4 * d.Le * (4 * d.D * d.D + 2 * d.D * d.F) + 4 * d.Ld * 2 * d.D * d.D;
  const decoderWeights = 4 * (d.Ld * (6 * d.D * d.D + 2 * d.D * d.F) + d.D * d.V);
  const kvPerPosition = 4 * d.Ld * 2 * d.D;
  return w.encoderCalls * encoderWeights + w.decoderRuns * decoderWeights + (w.decoderCrossKvReads + w.decoderSelfKvReads) * kvPerPosition;
}

function delta(a: WorkCounters, b: WorkCounters): WorkCounters {
  const out = emptyCounters();
  for (const k of Object.keys(out) as (keyof WorkCounters)[]) out[k] = b[k] - a[k];
  return out;
}

const summary = BENCH_SUMMARY;
const o = DEFAULT_OPTIONS;

interface Call {
  stages: { name: string; ms: number; work: WorkCounters }[];
  total: number;
  hyps: number;
  summaryTokens: number;
  sourceTokens: number;
}

/** One QUALS call's model work (./bench-call.ts), stage by stage, with the work counters of each. */
async function oneCall(model: LoadedModel, onStage?: (name: string) => void): Promise<Call> {
  const sm = model.seq2seq;
  const stages: Call['stages'] = [];
  const t0 = performance.now();
  const r = await benchCall(model, async (name, fn) => {
    const before = { ...sm.counters };
    const t = performance.now();
    const out = await fn();
    stages.push({ name, ms: performance.now() - t, work: delta(before, { ...sm.counters }) });
    onStage?.(name);
    return out;
  });
  return { stages, total: performance.now() - t0, hyps: r.hyps.length, summaryTokens: r.summaryTokens, sourceTokens: r.sourceTokens };
}

/** The search alone, `hf` bookkeeping (the naive loop's), with `beams` beams in `beams` groups. */
async function projectSearch(model: LoadedModel, beams: number): Promise<{ ms: number; steps: number }> {
  const sm = model.seq2seq;
  const enc = await sm.encode(model.format.encodeInput(summary).ids);
  const before = sm.counters.decoderRuns;
  const t0 = performance.now();
  await beamSearch(sm, enc, { ...o, numBeams: beams, numBeamGroups: beams, beamSearch: 'hf', eosId: model.format.eosId, padId: model.format.padId });
  return { ms: performance.now() - t0, steps: sm.counters.decoderRuns - before };
}

async function naiveSearch(naive: NaiveLoop, model: LoadedModel, beams: number): Promise<{ ms: number; steps: number }> {
  const ids = model.format.encodeInput(summary).ids;
  const t0 = performance.now();
  const r = await naive.search(ids, { numBeams: beams, numBeamGroups: beams, diversityPenalty: o.diversityStrength, minLength: o.minLength, maxLength: o.maxLength, eosId: model.format.eosId, decoderStartId: model.format.decoderStartId });
  // The timed work includes the encoder and the first decoder call, as the project's encode does for its search.
  return { ms: performance.now() - t0, steps: r.steps };
}

const fmt = (x: number, digits = 0) => x.toFixed(digits);
const ratioLine = (label: string, mine: number[], theirs: number[]) => {
  // best = fastest peer run / fastest project run (robust to a slow moment on either side);
  // min / median over the interleaved pairs (peer run i / project run i).
  const r = mine.map((m, i) => theirs[i]! / m);
  return `  ${label.padEnd(56)} best ${fmt(Math.min(...theirs) / Math.min(...mine), 2).padStart(6)}x  pairs min ${fmt(Math.min(...r), 2).padStart(5)}x median ${fmt(median(r), 2).padStart(5)}x  (fastest: project ${fmt(Math.min(...mine))} ms, peer ${fmt(Math.min(...theirs))} ms)`;
};

interface RssReport {
  maxRss: number;
  /** RSS once the sessions are loaded, and the peak while loading. */
  loaded: number;
  loadPeak: number | null;
  /** Peak RSS during each stage of the first call. */
  stages: Record<string, number | null>;
}

/** Child mode: one design, a cold and a warm call, then the peak RSS (and where it was reached). */
async function rssChild(design: 'quals-step' | 'merged', memArena: boolean): Promise<void> {
  // Not ru_maxrss: a spawned child inherits the bench's high-water mark (./peak-rss.ts).
  const peaks: number[] = [];
  const peak = () => {
    const p = peakRssSinceReset();
    if (p !== null) peaks.push(p);
    return p;
  };
  peakRssSinceReset();
  const model = await loadModel({ model: dir, device }, undefined, { design, memArena });
  const loadPeak = peak();
  const loaded = process.memoryUsage().rss;
  // Stage peaks of the first call: the memory each stage adds on top of the loaded model (the warm
  // call mostly reuses what the first one left allocated).
  const stages: RssReport['stages'] = {};
  await oneCall(model, (name) => (stages[name] = peak()));
  await oneCall(model);
  peak();
  // No VmHWM (not Linux): not measured, rather than ru_maxrss, which a child inherits (./peak-rss.ts).
  const report: RssReport | null = peaks.length > 0 ? { maxRss: Math.max(...peaks), loaded, loadPeak, stages } : null;
  console.log(JSON.stringify(report));
  await model.dispose();
}

function measureRss(design: string, memArena = true): RssReport | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/quals-bench.ts', '--rss', design, ...(memArena ? [] : ['--no-arena'])], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as RssReport | null;
  } catch {
    return null;
  }
}

function runPeer(request: Record<string, unknown>): { ok: boolean; times?: number[]; length?: number; error?: string } {
  copyFileSync('bench/peers.mjs', join(peersDir, 'peers.mjs'));
  const r = spawnSync(process.execPath, [join(peersDir, 'peers.mjs'), JSON.stringify({ model: dir, ...request })], { encoding: 'utf8', cwd: peersDir, timeout: 600_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { ok: boolean; times?: number[]; length?: number };
  } catch {
    return { ok: false, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-1)[0]!.slice(0, 300) };
  }
}

async function main(): Promise<void> {
  const t = performance.now();
  ensureTestModel(dir, { size: 'base', seed: 7 });
  console.log(`model: ${dir} (ready in ${fmt((performance.now() - t) / 1000, 1)} s), ${repeats} repeats, interleaved`);
  const step = await loadModel({ model: dir, device, log: (l) => console.log(`  ${l}`) });
  const merged = await loadModel({ model: dir, device }, undefined, { design: 'merged' });
  const cfg = step.folder.config as Record<string, number>;
  const dims: Dims = { D: cfg.d_model!, F: cfg.encoder_ffn_dim!, Le: cfg.encoder_layers!, Ld: cfg.decoder_layers!, V: cfg.vocab_size! };
  const probes = await Probes.create(dims.D, dims.F, dims.V);
  const naive = await NaiveLoop.create(dir, step.folder.config as never);
  console.log(`designs: ${step.seq2seq.design} (project graphs) vs ${merged.seq2seq.design} (Optimum layout), provider ${step.seq2seq.provider}`);

  // The first call after loading pays one-time costs (ONNX Runtime's allocations for new shapes,
  // first-touch memory); an editor session scores many times, so the tables show later calls.
  await probes.sample();
  const coldStep = await oneCall(step);
  const coldMerged = await oneCall(merged);
  console.log(`first (cold) call after loading: quals-step ${fmt(coldStep.total)} ms, merged ${fmt(coldMerged.total)} ms`);

  const stepCalls: Call[] = [];
  const mergedCalls: Call[] = [];
  const search: Record<string, number[]> = { p60: [], n60: [], p10: [], n10: [], p60steps: [], n60steps: [], p10steps: [], n10steps: [] };
  for (let r = 0; r < repeats; r++) {
    await probes.sample();
    stepCalls.push(await oneCall(step));
    await probes.sample();
    mergedCalls.push(await oneCall(merged));
    await probes.sample();
    for (const beams of [60, 10]) {
      const p = await projectSearch(step, beams);
      const n = await naiveSearch(naive, step, beams);
      search[`p${beams}`]!.push(p.ms);
      search[`n${beams}`]!.push(n.ms);
      search[`p${beams}steps`]!.push(p.steps);
      search[`n${beams}steps`]!.push(n.steps);
    }
  }
  await probes.sample();
  const gflops = probes.bestGflops();
  const gbps = probes.bestGBps();
  console.log(`\nyardsticks (probes between the timed calls; floors use the best sample):`);
  for (const l of probes.report()) console.log(l);
  const spread = probes.spread();

  const c0 = stepCalls[0]!;
  console.log(`\nOne QUALS call, quals-step design: summary ${c0.summaryTokens} tokens, source ${c0.sourceTokens} tokens, ${o.numBeams} beams / ${o.numBeamGroups} groups, ${c0.hyps} hypotheses, ${o.maxPairs} pairs scored`);
  console.log(`floor = max(FLOPs / ${fmt(gflops, 1)} GFLOP/s, bytes / ${fmt(gbps, 1)} GB/s); time over floor for the fastest and the median of ${repeats} warm calls`);
  console.log(`${'stage'.padEnd(20)}${'min ms'.padStart(9)}${'med ms'.padStart(9)}${'GFLOP'.padStart(8)}${'GB'.padStart(7)}${'floor ms'.padStart(10)}${'bound'.padStart(7)}${'min/fl'.padStart(8)}${'med/fl'.padStart(8)}${'calls'.padStart(7)}${'merged/step'.padStart(13)}`);
  let floorTotal = 0;
  for (const name of STAGES) {
    const times = stepCalls.map((c) => c.stages.find((s) => s.name === name)!.ms);
    const mergedTimes = mergedCalls.map((c) => c.stages.find((s) => s.name === name)!.ms);
    const w = c0.stages.find((s) => s.name === name)!.work;
    const f = flops(w, dims);
    const b = bytes(w, dims);
    const flopFloor = (f / (gflops * 1e9)) * 1000;
    const byteFloor = (b / (gbps * 1e9)) * 1000;
    const floor = Math.max(flopFloor, byteFloor);
    floorTotal += floor;
    console.log(
      `${name.padEnd(20)}${fmt(Math.min(...times)).padStart(9)}${fmt(median(times)).padStart(9)}${fmt(f / 1e9, 1).padStart(8)}${fmt(b / 1e9, 1).padStart(7)}${fmt(floor).padStart(10)}${(flopFloor >= byteFloor ? 'flop' : 'bytes').padStart(7)}` +
        `${fmt(Math.min(...times) / floor, 2).padStart(8)}${fmt(median(times) / floor, 2).padStart(8)}${String(w.decoderCalls).padStart(7)}${fmt(median(mergedTimes) / median(times), 2).padStart(12)}x`,
    );
  }
  const totals = stepCalls.map((c) => c.total);
  const mergedTotals = mergedCalls.map((c) => c.total);
  console.log(`${'total'.padEnd(20)}${fmt(Math.min(...totals)).padStart(9)}${fmt(median(totals)).padStart(9)}${''.padStart(15)}${fmt(floorTotal).padStart(10)}${''.padStart(7)}${fmt(Math.min(...totals) / floorTotal, 2).padStart(8)}${fmt(median(totals) / floorTotal, 2).padStart(8)}${''.padStart(7)}${fmt(median(mergedTotals) / median(totals), 2).padStart(12)}x`);
  const best = Math.min(...totals) / floorTotal;
  console.log(`target on CPU: a call within 1.5x of the floor -> ${best <= 1.5 ? 'met' : 'NOT met'} (fastest ${fmt(best, 2)}x, median ${fmt(median(totals) / floorTotal, 2)}x)`);
  console.log(spread > 1.3
    ? `NOISY RUN: the MatMul probes moved by ${fmt(spread, 2)}x (max/min of one shape) during the run; the ratios above are not a judgement of the engine.`
    : `probe spread ${fmt(spread, 2)}x (max/min of one shape): quiet enough to judge.`);

  console.log(`\npeers on the same model (peer time / project time; > 1 = the project is faster):`);
  const steps = (k: string) => `${fmt(median(search[`${k}steps`]!))} steps`;
  console.log(ratioLine(`naive onnxruntime loop, 60 beams / 60 groups (search)`, search.p60!, search.n60!) + ` [project ${steps('p60')}, naive ${steps('n60')}]`);
  console.log(ratioLine(`naive onnxruntime loop, 10 beams / 10 groups (search)`, search.p10!, search.n10!) + ` [project ${steps('p10')}, naive ${steps('n10')}]`);
  const perStep = (p: string, n: string) => search[p]!.map((x, i) => x / search[`${p}steps`]![i]!).map((x, i) => [x, search[n]![i]! / search[`${n}steps`]![i]!] as const);
  for (const beams of [60, 10]) {
    const pairs = perStep(`p${beams}`, `n${beams}`);
    console.log(ratioLine(`  per decoder step, ${beams} beams`, pairs.map((x) => x[0]), pairs.map((x) => x[1])));
  }

  if (process.env.QUALS_BENCH_PEERS !== '0') {
    if (!existsSync(join(peersDir, 'node_modules'))) {
      console.log(`  transformers.js peers: not installed (run \`node bench/install-peers.mjs\`; they install from the npm registry into .cache/bench-peers)`);
    } else {
      const ids = step.format.encodeInput(summary).ids;
      const greedyNew = 40;
      const mine: number[] = [];
      let myLength = 0;
      const greedy = async () => {
        const enc = await step.seq2seq.encode(ids);
        const t0 = performance.now();
        const seq = await greedyDecode(step.seq2seq, enc, { maxNewTokens: greedyNew, eosId: step.format.eosId, minLength: greedyNew + 1, forcedEosId: step.format.eosId });
        myLength = seq.length;
        return performance.now() - t0;
      };
      await greedy();
      for (let r = 0; r < repeats; r++) mine.push(await greedy());
      const hf = runPeer({ peer: 'hf-greedy', ids, maxNewTokens: greedyNew, repeats });
      for (let r = 0; r < repeats; r++) mine.push(await greedy());
      if (hf.ok && hf.times) {
        // Project times before and after the peer's run; the ratio pairs each peer repeat with the median of the project's.
        const m = median(mine);
        console.log(ratioLine(`@huggingface/transformers 4.3 greedy, ${greedyNew} new tokens`, hf.times.map(() => m), hf.times) + ` [lengths: project ${myLength}, peer ${hf.length}]`);
      } else console.log(`  @huggingface/transformers greedy: did not run (${hf.error})`);
      const xb = 10;
      const xNew = 20;
      const x = runPeer({ peer: 'xenova-beam', ids, numBeams: xb, maxNewTokens: xNew, repeats: 1 });
      if (x.ok && x.times) {
        const p: number[] = [];
        for (let r = 0; r < x.times.length; r++) {
          const enc = await step.seq2seq.encode(ids);
          const t0 = performance.now();
          await beamSearch(step.seq2seq, enc, { ...o, numBeams: xb, numBeamGroups: 1, minLength: xNew, maxLength: xNew, beamSearch: 'hf', eosId: step.format.eosId, padId: step.format.padId });
          p.push(performance.now() - t0);
        }
        console.log(ratioLine(`@xenova/transformers 2.17 beam search, ${xb} beams, ${xNew} tokens`, p, x.times) + ` (60 beams: not run, one batch-1 decoder call per beam and step)`);
      } else console.log(`  @xenova/transformers beam search: did not run (${x.error})`);
    }
  }

  await naive.release();
  await probes.release();
  await step.dispose();
  await merged.dispose();

  console.log(`\npeak RSS of a process that loads the model and runs two calls (fresh child per design; MiB: after loading, peak while loading, peak per stage of the first call):`);
  const mib = (x: number | null | undefined) => (x == null ? '-' : fmt(x / 2 ** 20));
  for (const [design, memArena] of [['quals-step', true], ['quals-step', false], ['merged', true]] as const) {
    const rss = measureRss(design, memArena);
    const label = `${design}${memArena ? '' : ', ORT arena off'}`;
    const detail = rss ? `  [loaded ${mib(rss.loaded)}, load peak ${mib(rss.loadPeak)}; ${STAGES.map((s) => `${s} ${mib(rss.stages[s])}`).join(', ')}]` : '';
    console.log(`  ${label.padEnd(28)} ${rss === null ? 'not measured' : `${fmt(rss.maxRss / 2 ** 30, 2)} GiB`}${design === 'quals-step' && memArena && rss !== null ? `  (target <= 1.2 GB: ${rss.maxRss <= 1.2e9 ? 'met' : 'NOT met'})` : ''}${detail}`);
  }
}

benchEntry(main, ([design, arena]) => rssChild(design as 'quals-step' | 'merged', arena !== '--no-arena'));
