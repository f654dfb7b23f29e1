/**
 * The bench's yardsticks, measured between the timed work (never once up front): MatMul throughput
 * at the shapes the stages run plus a large square one, and memory bandwidth (a one-row product
 * streaming a 256 MB weight matrix, as a decoder step streams its weights). Each `sample()` adds
 * one measurement per probe; floors use the best sample seen, so a slow moment never lowers a floor.
 */
import * as ort from 'onnxruntime-node';
import { DataType, Graph, modelProto } from '../src/scoring/model/onnx-writer';

export interface ProbeShape {
  name: string;
  m: number;
  k: number;
  n: number;
}

interface Probe extends ProbeShape {
  session: ort.InferenceSession;
  a: ort.Tensor;
  reps: number;
  samples: number[]; // GFLOP/s, or GB/s for the bandwidth probe
}

async function matmulProbe(shape: ProbeShape, reps: number): Promise<Probe> {
  const { m, k, n } = shape;
  const g = new Graph(`probe_${shape.name}`);
  g.input('a', DataType.FLOAT, [m, k]);
  const w = new Float32Array(k * n);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  g.op('MatMul', ['a', g.f32([k, n], w, 'w')], {}, 'y');
  g.output('y', DataType.FLOAT, [m, n]);
  const session = await ort.InferenceSession.create(modelProto(g), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const a = new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), [m, k]);
  for (let i = 0; i < 2; i++) await session.run({ a });
  return { ...shape, session, a, reps, samples: [] };
}

export class Probes {
  private constructor(
    private readonly flops: Probe[],
    private readonly bandwidth: Probe,
  ) {}

  /** Shapes: the encoder's FFN over ~1k tokens, a 60-row decoder step's FFN and LM head, a large square. */
  static async create(D: number, F: number, V: number): Promise<Probes> {
    const shapes: ProbeShape[] = [
      { name: `encoder [1024,${D}]x[${D},${F}]`, m: 1024, k: D, n: F },
      { name: `step [60,${D}]x[${D},${F}]`, m: 60, k: D, n: F },
      { name: `lm head [60,${D}]x[${D},${V}]`, m: 60, k: D, n: V },
      { name: 'square [1024,1024]x[1024,1024]', m: 1024, k: 1024, n: 1024 },
    ];
    const flops: Probe[] = [];
    for (const s of shapes) flops.push(await matmulProbe(s, s.m >= 1024 ? 6 : 12));
    const bandwidth = await matmulProbe({ name: 'bandwidth [1,8192]x[8192,8192] (256 MB)', m: 1, k: 8192, n: 8192 }, 8);
    return new Probes(flops, bandwidth);
  }

  /** One measurement of every probe (~0.5-1 s). */
  async sample(): Promise<void> {
    for (const p of [...this.flops, this.bandwidth]) {
      const t0 = performance.now();
      for (let i = 0; i < p.reps; i++) await p.session.run({ a: p.a });
      const s = (performance.now() - t0) / 1000 / p.reps;
      p.samples.push(p === this.bandwidth ? (4 * p.k * p.n) / s / 1e9 : (2 * p.m * p.k * p.n) / s / 1e9);
    }
  }

  /** The best MatMul throughput seen on any probe (GFLOP/s): the honest FLOP yardstick. */
  bestGflops(): number {
    return Math.max(...this.flops.flatMap((p) => p.samples));
  }

  bestGBps(): number {
    return Math.max(...this.bandwidth.samples);
  }

  /** Per probe: min / median / max of its samples, and the spread of the best one. */
  report(): string[] {
    const lines: string[] = [];
    for (const p of [...this.flops, this.bandwidth]) {
      const s = [...p.samples].sort((a, b) => a - b);
      const unit = p === this.bandwidth ? 'GB/s' : 'GFLOP/s';
      lines.push(`  ${p.name.padEnd(42)} ${unit.padEnd(8)} min ${s[0]!.toFixed(1).padStart(6)}  median ${median(s).toFixed(1).padStart(6)}  max ${s[s.length - 1]!.toFixed(1).padStart(6)}  (${s.length} samples)`);
    }
    return lines;
  }

  /** max/min of the best-shape probe's samples: how much the machine's speed moved during the run. */
  spread(): number {
    let worst = 1;
    for (const p of this.flops) {
      const s = p.samples;
      worst = Math.max(worst, Math.max(...s) / Math.min(...s));
    }
    return worst;
  }

  async release(): Promise<void> {
    for (const p of [...this.flops, this.bandwidth]) await p.session.release();
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
