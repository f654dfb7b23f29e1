/**
 * The int8 variant of the project's graphs (docs/quals-engine.md, "The int8 variant"): every large
 * MatMul weight (attention projections, feed-forward, LM head) is stored as int8 with one fp32
 * scale per output column (symmetric, zero point 0) and multiplied by ONNX Runtime's contrib op
 * `com.microsoft.DynamicQuantizeMatMul`, which quantizes the activations to uint8 per call and
 * adds the fp32 bias in the same kernel. Embeddings (read by Gather), LayerNorm weights, biases and
 * the attention products between activations stay fp32.
 *
 * Why this op: measured with ONNX Runtime 1.30 on the CPU this project is benchmarked on (AVX-512
 * VNNI), at the bench model's shapes (768 x 3072, 768 x 50265; 1 to 1,000 rows) it was as fast as
 * or faster than MatMulInteger + DynamicQuantizeLinear (which ORT fuses into it anyway), 1.3-2.5x
 * faster than uint8 weights with a zero point of 128, and 1.2-20x faster than MatMulNBits (8 bits,
 * blocks of 32 or 128). Its error against the fp32 product was ~6e-3 of the largest output.
 *
 * Deterministic: the same fp32 weights give the same bytes on every platform (IEEE arithmetic only).
 */
import { DataType, type Graph } from '../../scoring/model/onnx-writer';

/** The precision a builder writes its MatMul weights in. */
export type WeightPrecision = 'fp32' | 'int8';

/** What quals.json records about an int8 variant (graphs.variants.int8). */
export const INT8_RECORD = {
  design: 'quals-step',
  weights: 'int8, one fp32 scale per output column, zero point 0',
  kernel: 'com.microsoft.DynamicQuantizeMatMul',
} as const;

export interface QuantizedMatrix {
  /** [rows, cols] row-major, values in [-127, 127]. */
  q: Int8Array;
  /** [cols]: w[r, c] ~= q[r, c] * scale[c]. */
  scale: Float32Array;
}

/** Symmetric int8 quantization of a [rows, cols] matrix with one scale per column (per output channel of x @ W). */
export function quantizeColumns(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (w.length !== rows * cols) throw new Error(`quantizeColumns: ${w.length} values for [${rows}, ${cols}]`);
  const maxAbs = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[base + c]!);
      if (a > maxAbs[c]!) maxAbs[c] = a;
    }
  }
  // An all-zero column gets scale 1 (its values quantize to 0 either way).
  const scale = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) q[base + c] = Math.max(-127, Math.min(127, Math.round(w[base + c]! / scale[c]!)));
  }
  return { q, scale };
}

/**
 * Lazy int8 initializers: both tensors of a weight (values and scales) come from one read of its
 * fp32 values, which the writer asks for one after the other. Only the last matrix is kept (peak
 * memory about one tensor, as for fp32 imports); scales are small and kept for re-reads.
 */
export class Int8Weights {
  private last: { name: string; m: QuantizedMatrix } | null = null;
  private readonly scales = new Map<string, Float32Array>();

  private matrix(name: string, rows: number, cols: number, read: () => Float32Array): QuantizedMatrix {
    if (this.last?.name !== name) {
      const m = quantizeColumns(read(), rows, cols);
      this.scales.set(name, m.scale);
      this.last = { name, m };
    }
    return this.last.m;
  }

  /**
   * Registers `${name}.int8` [rows, cols] and `${name}.scale` [cols] on `g` (once per graph: the
   * caller dedupes by name) for the fp32 matrix `read` returns ([rows, cols], x @ W layout).
   */
  register(g: Graph, name: string, rows: number, cols: number, read: () => Float32Array): { q: string; scale: string } {
    const q = g.initializer(`${name}.int8`, DataType.INT8, [rows, cols], () => this.matrix(name, rows, cols, read).q);
    const scale = g.f32([cols], () => this.scales.get(name) ?? this.matrix(name, rows, cols, read).scale, `${name}.scale`);
    return { q, scale };
  }
}

/** x [..., K] @ W [K, N] (+ bias [N]) with W as int8 (Int8Weights.register): one DynamicQuantizeMatMul. */
export function int8MatMul(g: Graph, x: string, w: { q: string; scale: string }, bias?: string, output?: string): string {
  // b_zero_point is left out: the weights are symmetric (zero point 0).
  return g.msOp('DynamicQuantizeMatMul', bias ? [x, w.q, w.scale, '', bias] : [x, w.q, w.scale], {}, output);
}
