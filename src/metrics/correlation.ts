/**
 * Agreement between metric scores and human labels: Pearson, Spearman (Pearson on average ranks)
 * and Kendall's tau-b (tie-corrected), with percentile bootstrap confidence intervals. Undefined
 * cases (fewer than 2 points, a constant series) give NaN rather than a misleading number.
 */
import { mulberry32 } from '../util/prng';

export function pearson(x: readonly number[], y: readonly number[]): number {
  checkLengths(x, y);
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return clamp(sxy / Math.sqrt(sxx * syy));
}

/** 1-based ranks; tied values share the mean of the ranks they span. */
export function averageRanks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Array<number>(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  checkLengths(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's tau-b = (C - D) / sqrt((C + D + Tx)(C + D + Ty)), where Tx counts pairs tied only in
 * x and Ty pairs tied only in y. O(n²): fine for evaluation sets of a few thousand summaries.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkLengths(x, y);
  let c = 0;
  let d = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const sx = Math.sign(x[i]! - x[j]!);
      const sy = Math.sign(y[i]! - y[j]!);
      if (sx === 0 && sy === 0) continue;
      if (sx === 0) tx++;
      else if (sy === 0) ty++;
      else if (sx === sy) c++;
      else d++;
    }
  }
  const denom = Math.sqrt((c + d + tx) * (c + d + ty));
  return denom === 0 ? NaN : clamp((c - d) / denom);
}

export interface Interval {
  /** The statistic on the full sample. */
  estimate: number;
  low: number;
  high: number;
  /** Resamples that gave a defined value (a resample can be constant). */
  valid: number;
  resamples: number;
}

export interface BootstrapOptions {
  resamples?: number;
  /** Coverage, e.g. 0.95. */
  level?: number;
  seed?: number;
}

/** Percentile bootstrap over (x, y) pairs resampled with replacement. */
export function bootstrapInterval(
  x: readonly number[],
  y: readonly number[],
  stat: (x: readonly number[], y: readonly number[]) => number,
  opts: BootstrapOptions = {},
): Interval {
  checkLengths(x, y);
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const rand = mulberry32(opts.seed ?? 1);
  const n = x.length;
  const values: number[] = [];
  const bx = new Array<number>(n);
  const by = new Array<number>(n);
  for (let b = 0; b < resamples && n > 0; b++) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rand() * n);
      bx[i] = x[k]!;
      by[i] = y[k]!;
    }
    const v = stat(bx, by);
    if (Number.isFinite(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return { estimate: stat(x, y), low: quantile(values, alpha), high: quantile(values, 1 - alpha), valid: values.length, resamples };
}

/** Linear-interpolation quantile of sorted values (NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface CorrelationReport {
  n: number;
  pearson: Interval;
  spearman: Interval;
  kendall: Interval;
}

/** All three correlations with intervals; each statistic gets its own stream from the same seed. */
export function correlate(x: readonly number[], y: readonly number[], opts: BootstrapOptions = {}): CorrelationReport {
  return {
    n: x.length,
    pearson: bootstrapInterval(x, y, pearson, opts),
    spearman: bootstrapInterval(x, y, spearman, opts),
    kendall: bootstrapInterval(x, y, kendallTauB, opts),
  };
}

function checkLengths(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new Error(`correlation needs equal lengths (got ${x.length} and ${y.length})`);
}

// Rounding can push |r| a hair past 1.
function clamp(r: number): number {
  return Math.max(-1, Math.min(1, r));
}
