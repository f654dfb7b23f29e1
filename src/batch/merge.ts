/**
 * Joins shard outputs into one file in input order (a streaming k-way merge on the `line` field)
 * and checks that every input line appears exactly once. Lines are copied byte for byte, so a
 * merged file equals what one process would have written.
 */
import { existsSync } from 'node:fs';
import { AtomicJsonl } from './atomic';
import { readLines } from './jsonl';
import { BatchInputError } from './runner';

export interface MergeOptions {
  inputs: string[];
  output: string;
  /** Input lines the shards should cover (from counting the input file); enables the tail check. */
  expectLines?: number;
}

export interface MergeReport {
  lines: number;
  missingCount: number;
  /** First missing input line numbers (at most 20). */
  missing: number[];
  duplicateCount: number;
  duplicates: number[];
  /** Lines numbered beyond expectLines. */
  extraCount: number;
  written: boolean;
}

interface Head {
  n: number;
  text: string;
  file: number;
}

const LIST_MAX = 20;

/** Merges; writes `output` only when nothing is missing, duplicated or extra. */
export async function mergeShards(opts: MergeOptions): Promise<MergeReport> {
  for (const f of opts.inputs) if (!existsSync(f)) throw new BatchInputError(`Shard output not found: ${f}`);
  const iters = opts.inputs.map((f) => readLines(f));
  const last = opts.inputs.map(() => 0);
  const next = async (file: number): Promise<Head | null> => {
    const r = await iters[file]!.next();
    if (r.done) return null;
    const { lineNo, text } = r.value;
    let n: unknown;
    try {
      n = (JSON.parse(text) as { line?: unknown }).line;
    } catch {
      throw new BatchInputError(`${opts.inputs[file]} line ${lineNo} is not valid JSON (a torn line? resume that shard first).`);
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new BatchInputError(`${opts.inputs[file]} line ${lineNo} has no "line" number; is it a quals batch output?`);
    if (n <= last[file]!) throw new BatchInputError(`${opts.inputs[file]} line ${lineNo} is out of input order (line ${n} after ${last[file]}).`);
    last[file] = n;
    return { n, text, file };
  };

  const heap = new MinHeap();
  for (let i = 0; i < iters.length; i++) {
    const h = await next(i);
    if (h) heap.push(h);
  }
  const out = new AtomicJsonl(opts.output);
  const rep: MergeReport = { lines: 0, missingCount: 0, missing: [], duplicateCount: 0, duplicates: [], extraCount: 0, written: false };
  const noteMissing = (from: number, to: number) => {
    rep.missingCount += to - from + 1;
    for (let k = from; k <= to && rep.missing.length < LIST_MAX; k++) rep.missing.push(k);
  };
  let expected = 1;
  try {
    for (let h = heap.pop(); h; h = heap.pop()) {
      const following = await next(h.file);
      if (following) heap.push(following);
      if (h.n < expected) {
        rep.duplicateCount++;
        if (rep.duplicates.length < LIST_MAX) rep.duplicates.push(h.n);
        continue;
      }
      if (h.n > expected) noteMissing(expected, h.n - 1);
      if (opts.expectLines !== undefined && h.n > opts.expectLines) rep.extraCount++;
      out.appendLine(h.text);
      rep.lines++;
      expected = h.n + 1;
    }
    if (opts.expectLines !== undefined && expected <= opts.expectLines) noteMissing(expected, opts.expectLines);
    if (rep.missingCount || rep.duplicateCount || rep.extraCount) out.abort();
    else {
      out.commit();
      rep.written = true;
    }
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    await Promise.all(iters.map((it) => it.return(undefined)));
  }
  return rep;
}

/** Smallest input line number first; ties (duplicates) keep file order for stable reporting. */
class MinHeap {
  private readonly a: Head[] = [];
  private less(x: Head, y: Head): boolean {
    return x.n < y.n || (x.n === y.n && x.file < y.file);
  }
  push(h: Head): void {
    const a = this.a;
    a.push(h);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Head | undefined {
    const a = this.a;
    const top = a[0];
    const end = a.pop();
    if (a.length && end) {
      a[0] = end;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
