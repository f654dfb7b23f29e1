/**
 * QUALS latency benchmark on a BART-base-shaped random model (d_model 768, 6+6 layers, 12 heads,
 * vocab 50265), generated once into .cache/bench-model. One QUALS call with the reference search
 * settings (summary ~60 tokens, source ~1,000 tokens), stage by stage, next to each stage's FLOP
 * floor = FLOPs / ONNX Runtime's measured MatMul throughput on this machine.
 *
 * A random model rarely emits a well-formed (question, separator, answer) sequence, so after the
 * search the bench scores the first 10 hypotheses as if they were the selected pairs: the same
 * calls, shapes and amounts of work as a real QUALS call with 10 selected pairs.
 */
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { ensureTestModel } from '../src/modelgen/random-bart';
import { beamContinuations, beamSearch } from '../src/scoring/model/generate';
import { loadModel } from '../src/scoring/model/loader';
import { measureMatMulGflops } from '../src/scoring/model/ort';
import { type WorkCounters, emptyCounters } from '../src/scoring/model/seq2seq';
import { DEFAULT_OPTIONS } from '../src/scoring/options';

const device = (process.env.QUALS_BENCH_DEVICE ?? 'cpu') as 'cpu' | 'cuda' | 'auto';
const dir = resolve(process.env.QUALS_BENCH_MODEL ?? '.cache/bench-model');

function words(n: number, seed: number): string {
  const vocab = ['the', 'team', 'match', 'city', 'won', 'beat', 'scored', 'goals', 'said', 'year', 'Paris', 'London', 'born', 'was', 'in', 'on', 'for', 'by', 'he', 'she'];
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(vocab[s % vocab.length]!);
  }
  return out.join(' ');
}

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

function delta(a: WorkCounters, b: WorkCounters): WorkCounters {
  const out = emptyCounters();
  for (const k of Object.keys(out) as (keyof WorkCounters)[]) out[k] = b[k] - a[k];
  return out;
}

async function main(): Promise<void> {
  let t = performance.now();
  ensureTestModel(dir, { size: 'base', seed: 7 });
  console.log(`model: ${dir} (ready in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  const model = await loadModel({ model: dir, device, log: (l) => console.log(`  ${l}`) });
  const cfg = model.folder.config as Record<string, number>;
  const dims: Dims = { D: cfg.d_model!, F: cfg.encoder_ffn_dim!, Le: cfg.encoder_layers!, Ld: cfg.decoder_layers!, V: cfg.vocab_size! };
  const gflops = await measureMatMulGflops();
  console.log(`ONNX Runtime MatMul throughput ([512,768]x[768,3072], float32, ${model.seq2seq.provider}): ${gflops.toFixed(1)} GFLOP/s`);

  const summary = words(58, 1);
  const source = words(1000, 2);
  const o = DEFAULT_OPTIONS;
  const sm = model.seq2seq;

  /** One QUALS call's model work, stage by stage, as scoreQuals runs it. */
  async function oneCall() {
    const stages: { name: string; ms: number; work: WorkCounters }[] = [];
    const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const before = { ...sm.counters };
      const t0 = performance.now();
      const r = await fn();
      stages.push({ name, ms: performance.now() - t0, work: delta(before, { ...sm.counters }) });
      return r;
    };
    const t0 = performance.now();
    const summaryIn = model.format.encodeInput(summary);
    const sourceIn = model.format.encodeInput(source);
    const [summaryEnc, sourceEnc] = await stage('encode', async () => [await sm.encode(summaryIn.ids), await sm.encode(sourceIn.ids)] as const);
    const hyps = await stage('beam search', () => beamSearch(sm, summaryEnc, { ...o, eosId: model.format.eosId, padId: model.format.padId }));
    const targets = hyps.slice(0, o.maxPairs).map((h) => h.tokens);
    await stage('teacher forcing', async () => {
      await sm.teacherForce(summaryEnc, targets, o.maxLogitsFloats);
      await sm.teacherForce(sourceEnc, targets, o.maxLogitsFloats);
    });
    const prompts = targets.map((tg) => tg.slice(0, Math.max(1, Math.floor(tg.length / 2))));
    await stage('answer from source', () =>
      beamContinuations(sm, sourceEnc, prompts, { numBeams: 4, maxLength: o.sourceAnswerMaxTokens, eosId: model.format.eosId, padId: model.format.padId }),
    );
    return { stages, total: performance.now() - t0, summaryIn, sourceIn, hyps, targets };
  }

  // The first call after loading pays one-time costs (ONNX Runtime's allocations for new shapes,
  // first-touch memory); an editor session scores many times, so the table shows the second call.
  const cold = await oneCall();
  const { stages, total, summaryIn, sourceIn, hyps, targets } = await oneCall();
  console.log(`first (cold) call after loading: ${cold.total.toFixed(0)} ms; the table shows the next (warm) call`);
  console.log(`\nOne QUALS call: summary ${summaryIn.tokensTotal} tokens, source ${sourceIn.tokensKept} tokens, ${o.numBeams} beams / ${o.numBeamGroups} groups, ${hyps.length} hypotheses, ${targets.length} pairs scored`);
  console.log(`${'stage'.padEnd(20)}${'time ms'.padStart(10)}${'GFLOP'.padStart(10)}${'floor ms'.padStart(10)}${'time/floor'.padStart(12)}${'calls'.padStart(8)}`);
  let totalFlops = 0;
  for (const s of stages) {
    const f = flops(s.work, dims);
    totalFlops += f;
    const floor = (f / (gflops * 1e9)) * 1000;
    console.log(`${s.name.padEnd(20)}${s.ms.toFixed(0).padStart(10)}${(f / 1e9).toFixed(1).padStart(10)}${floor.toFixed(0).padStart(10)}${(s.ms / floor).toFixed(2).padStart(12)}${String(s.work.decoderCalls).padStart(8)}`);
  }
  const floorTotal = (totalFlops / (gflops * 1e9)) * 1000;
  console.log(`${'total'.padEnd(20)}${total.toFixed(0).padStart(10)}${(totalFlops / 1e9).toFixed(1).padStart(10)}${floorTotal.toFixed(0).padStart(10)}${(total / floorTotal).toFixed(2).padStart(12)}`);
  console.log(`\ntarget on CPU: total within 2x of the floor -> ${total / floorTotal <= 2 ? 'met' : 'NOT met'} (${(total / floorTotal).toFixed(2)}x)`);
  await model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
