// A foreign (Optimum) merged decoder's with-past branch, split out at load time: one-token cached
// steps give the same logits and self-attention presents as the merged graph's If node, on the
// genuine Optimum exports of the reference fixtures; the split is cached, never written into the
// model folder, and a folder's own decoder_with_past_model.onnx is used instead when present.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Reader } from '../../src/modelgen/onnx-weights';
import { readModelFolder } from '../../src/models/model-files';
import { ensureTestModel } from '../../src/modelgen/random-bart';
import { PRUNE_GRACE_MS, pruneDerived, withPastDecoder } from '../../src/scoring/model/merged-split';
import { openSeq2Seq } from '../../src/scoring/model/loader';
import { ProtoBuilder } from '../../src/scoring/model/onnx-writer';
import { floatData, inputNames, outputNames } from '../../src/scoring/model/ort';
import type { Seq2Seq } from '../../src/scoring/model/seq2seq';
import { ensureHfFixtures } from '../../scripts/hf-fixtures.mjs';

const root = join(__dirname, '..', 'fixtures', 'hf-reference');

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}


/** A few one-token cached steps of a two-row state, then teacher forcing: both engines must agree. */
async function sameSteps(mergedRun: Seq2Seq, splitRun: Seq2Seq): Promise<void> {
  const ids = [5, 17, 23, 99, 41, 8, 60, 2];
  const run = async (s: Seq2Seq) => {
    const enc = await s.encode(ids);
    let state = s.startState(enc, 2);
    const steps: { logits: Float32Array; kv: Float32Array[] }[] = [];
    for (const tokens of [[7, 9], [11, 13], [30, 4], [2, 8]]) {
      const out = await s.step(state, tokens);
      state = out.state;
      steps.push({ logits: floatData(out.logits), kv: [...state.selfKv.values()].map(floatData) });
    }
    // A multi-token pass over an empty cache still takes the merged graph's no-cache branch.
    const tf = await s.teacherForce(enc, [[7, 11, 30, 2], [9, 13, 2]], 1e9);
    return { steps, tf };
  };
  const a = await run(mergedRun);
  const b = await run(splitRun);
  a.steps.forEach((st, i) => {
    const d = maxDiff(st.logits, b.steps[i]!.logits);
    assert.ok(d <= 1e-5, `step ${i} logits differ by ${d}`);
    st.kv.forEach((kv, j) => assert.ok(maxDiff(kv, b.steps[i]!.kv[j]!) <= 1e-5, `step ${i} present ${j}`));
  });
  assert.deepEqual(b.tf, a.tf);
}

/** The one split folder under a cache dir (derived/<path key>/<version key>/, next to the path key's source.json). */
function splitDir(cacheDir: string): string {
  const [byPath, ...more] = readdirSync(join(cacheDir, 'derived'));
  const [version, ...others] = readdirSync(join(cacheDir, 'derived', byPath!)).filter((n) => n !== 'source.json');
  assert.equal(more.length + others.length, 0);
  return join(cacheDir, 'derived', byPath!, version!);
}

type Opened = Awaited<ReturnType<typeof openSeq2Seq>>;

for (const name of ['bart-a', 't5-a']) {
  describe(`merged decoder split (${name} onnx-layout, a genuine Optimum export)`, () => {
    const dir = join(root, name, 'onnx-layout');
    let cacheDir: string;
    let merged: Opened;
    let split: Opened;
    before(async () => {
      ensureHfFixtures();
      cacheDir = mkdtempSync(join(tmpdir(), 'quals-split-'));
      const folder = readModelFolder(dir);
      const config = { device: 'cpu' as const, cacheDir, threads: 1 };
      const start = Number(folder.config.decoder_start_token_id ?? 0);
      const pad = Number(folder.config.pad_token_id ?? 0);
      merged = await openSeq2Seq(folder, config, start, pad, { withPast: false });
      split = await openSeq2Seq(folder, config, start, pad);
    });
    after(async () => {
      await merged?.dispose();
      await split?.dispose();
      rmSync(cacheDir, { recursive: true, force: true });
    });

    it('foreign folders get the split by default, cached outside the model folder', () => {
      const s = (split.seq2seq as unknown as { sessions: { withPast?: unknown } }).sessions;
      assert.ok(s.withPast, 'no with-past session');
      assert.ok(!(merged.seq2seq as unknown as { sessions: { withPast?: unknown } }).sessions.withPast);
      assert.deepEqual(readdirSync(join(dir, 'onnx')).sort(), ['decoder_model_merged.onnx', 'encoder_model.onnx']);
      assert.deepEqual(readdirSync(splitDir(cacheDir)), ['decoder_with_past_split.onnx']);
    });

    it('the split graph outputs only logits and self-attention presents', () => {
      const session = (split.seq2seq as unknown as { sessions: { withPast: Parameters<typeof outputNames>[0] } }).sessions.withPast;
      const outs = outputNames(session);
      assert.equal(outs[0], 'logits');
      assert.ok(outs.length > 1 && outs.slice(1).every((o) => /^present\.\d+\.decoder\.(key|value)$/.test(o)), outs.join(', '));
      assert.ok(!inputNames(session).includes('use_cache_branch'));
    });

    it('cached steps give the merged graph\'s logits and presents', () => sameSteps(merged.seq2seq, split.seq2seq));
  });
}

describe('merged decoder split: an exported decoder_with_past_model.onnx wins', () => {
  it('is used as it is, with nothing written to the cache', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'quals-split-'));
    try {
      const onnx = join(tmp, 'model', 'onnx');
      mkdirSync(onnx, { recursive: true });
      const merged = join(onnx, 'decoder_model_merged.onnx');
      copyFileSync(join(root, 't5-a', 'onnx-layout', 'onnx', 'decoder_model_merged.onnx'), merged);
      copyFileSync(merged, join(onnx, 'decoder_with_past_model.onnx'));
      assert.equal(await withPastDecoder(merged, join(tmp, 'cache')), join(onnx, 'decoder_with_past_model.onnx'));
      assert.deepEqual(readdirSync(tmp), ['model']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a variant\'s merged file is paired with that variant\'s with-past file only, never fp32\'s', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'quals-split-'));
    try {
      const onnx = join(tmp, 'model', 'onnx');
      mkdirSync(onnx, { recursive: true });
      const fp16 = join(onnx, 'decoder_model_merged_fp16.onnx');
      copyFileSync(join(root, 't5-a', 'onnx-layout', 'onnx', 'decoder_model_merged.onnx'), fp16);
      copyFileSync(fp16, join(onnx, 'decoder_with_past_model.onnx'));
      const got = await withPastDecoder(fp16, join(tmp, 'cache'));
      assert.notEqual(got, join(onnx, 'decoder_with_past_model.onnx'), 'the fp32 with-past file is not the fp16 one');
      copyFileSync(fp16, join(onnx, 'decoder_with_past_model_fp16.onnx'));
      assert.equal(await withPastDecoder(fp16, join(tmp, 'cache')), join(onnx, 'decoder_with_past_model_fp16.onnx'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/**
 * The genuine Optimum merged decoder at `src` rewritten with its outer initializers in external
 * data (`<name>_data`, as Optimum writes models over 2 GB), into `dest`.
 */
function withExternalData(src: string, dest: string): void {
  const bytes = new Uint8Array(readFileSync(src));
  const data: Uint8Array[] = [];
  let offset = 0;
  const model = new ProtoBuilder();
  for (const m of new Reader(bytes).fields()) {
    if (m.field !== 7) {
      if (m.wire === 0) model.int(m.field, m.value!);
      else model.bytes(m.field, m.bytes!);
      continue;
    }
    const graph = new ProtoBuilder();
    for (const g of new Reader(m.bytes!).fields()) {
      const raw = g.field === 5 ? [...new Reader(g.bytes!).fields()].find((t) => t.field === 9) : undefined;
      if (!raw || raw.bytes!.length < 256) {
        graph.bytes(g.field, g.bytes!);
        continue;
      }
      const t = new ProtoBuilder();
      for (const f of new Reader(g.bytes!).fields()) if (f.field !== 9) (f.wire === 0 ? t.int(f.field, f.value!) : t.bytes(f.field, f.bytes!));
      const entry = (k: string, v: string) => new ProtoBuilder().str(1, k).str(2, v);
      t.msg(13, entry('location', `${basename(dest)}_data`)).msg(13, entry('offset', String(offset))).msg(13, entry('length', String(raw.bytes!.length))).int(14, 1);
      data.push(raw.bytes!);
      offset += raw.bytes!.length;
      graph.msg(5, t);
    }
    model.msg(7, graph);
  }
  writeFileSync(dest, model.finish());
  writeFileSync(`${dest}_data`, Buffer.concat(data));
}

describe('merged decoder split: external data', () => {
  it('the split refers to the merged file\'s .onnx_data and runs the same steps', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'quals-split-'));
    const opened: Opened[] = [];
    try {
      const src = join(root, 't5-a', 'onnx-layout');
      const model = join(tmp, 'model');
      cpSync(src, model, { recursive: true });
      const merged = join(model, 'onnx', 'decoder_model_merged.onnx');
      withExternalData(join(src, 'onnx', 'decoder_model_merged.onnx'), merged);
      const folder = readModelFolder(model);
      const config = { device: 'cpu' as const, cacheDir: join(tmp, 'cache'), threads: 1 };
      const start = Number(folder.config.decoder_start_token_id ?? 0);
      const pad = Number(folder.config.pad_token_id ?? 0);
      opened.push(await openSeq2Seq(folder, config, start, pad, { withPast: false }));
      opened.push(await openSeq2Seq(folder, config, start, pad));
      const dir = splitDir(join(tmp, 'cache'));
      const split = statSync(join(dir, 'decoder_with_past_split.onnx'));
      assert.ok(split.size < statSync(`${merged}_data`).size / 4, 'the weights were copied into the split');
      assert.equal(statSync(join(dir, 'decoder_model_merged.onnx_data')).ino, statSync(`${merged}_data`).ino, 'not a hard link');
      await sameSteps(opened[0]!.seq2seq, opened[1]!.seq2seq);
      // A changed merged file gets a new split, and the old one (with its links) goes.
      utimesSync(merged, new Date(), new Date(Date.now() + 5000));
      const again = await withPastDecoder(merged, join(tmp, 'cache'));
      assert.notEqual(again, join(dir, 'decoder_with_past_split.onnx'));
      assert.equal(splitDir(join(tmp, 'cache')), dirname(again!));
      // So does a replaced weight file (the split's hard link would still read the old one).
      copyFileSync(`${merged}_data`, `${merged}_data.new`);
      renameSync(`${merged}_data.new`, `${merged}_data`);
      assert.equal(await withPastDecoder(merged, join(tmp, 'cache')), again);
      assert.equal(statSync(join(dirname(again!), 'decoder_model_merged.onnx_data')).ino, statSync(`${merged}_data`).ino);
    } finally {
      for (const o of opened) await o.dispose();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('merged decoder split: the project\'s own merged layout (layers outside the If)', () => {
  it('splits and runs the same steps when asked for', async () => {
    const dir = ensureTestModel(join(tmpdir(), 'quals-test-models', 'tiny-1234'), { size: 'tiny', seed: 1234 });
    const cacheDir = mkdtempSync(join(tmpdir(), 'quals-split-'));
    const opened: Opened[] = [];
    try {
      const folder = readModelFolder(dir);
      const config = { device: 'cpu' as const, cacheDir, threads: 1 };
      const start = Number(folder.config.decoder_start_token_id ?? 2);
      const pad = Number(folder.config.pad_token_id ?? 1);
      opened.push(await openSeq2Seq(folder, config, start, pad, { design: 'merged' }));
      opened.push(await openSeq2Seq(folder, config, start, pad, { design: 'merged', withPast: true }));
      assert.ok(!(opened[0]!.seq2seq as unknown as { sessions: { withPast?: unknown } }).sessions.withPast, 'the project\'s graphs are split by default');
      assert.ok((opened[1]!.seq2seq as unknown as { sessions: { withPast?: unknown } }).sessions.withPast);
      await sameSteps(opened[0]!.seq2seq, opened[1]!.seq2seq);
    } finally {
      for (const o of opened) await o.dispose();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

describe('merged decoder split: a with-past graph that does not load', () => {
  it('is logged and left out; the model loads and every step runs the merged decoder', async () => {
    ensureHfFixtures();
    const tmp = mkdtempSync(join(tmpdir(), 'quals-split-'));
    try {
      const dir = join(tmp, 'model');
      cpSync(join(root, 't5-a', 'onnx-layout'), dir, { recursive: true });
      writeFileSync(join(dir, 'onnx', 'decoder_with_past_model.onnx'), 'not an ONNX file');
      const folder = readModelFolder(dir);
      const lines: string[] = [];
      const config = { device: 'cpu' as const, cacheDir: join(tmp, 'cache'), threads: 1, log: (l: string) => lines.push(l) };
      const opened = await openSeq2Seq(folder, config, Number(folder.config.decoder_start_token_id ?? 0), Number(folder.config.pad_token_id ?? 0));
      try {
        assert.ok(!(opened.seq2seq as unknown as { sessions: { withPast?: unknown } }).sessions.withPast);
        assert.ok(lines.some((l) => /with-past graph .* does not load; every step runs the merged decoder/.test(l)), lines.join('\n'));
        const enc = await opened.seq2seq.encode([5, 6, 7, 1]);
        const rows = await opened.seq2seq.teacherForce(enc, [[8, 9, 1]], 1 << 20);
        assert.equal(rows.length, 1);
      } finally {
        await opened.dispose();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/** A model folder holding only a copy of the t5-a genuine merged decoder (all a split reads). */
function mergedCopy(at: string): string {
  mkdirSync(join(at, 'onnx'), { recursive: true });
  const merged = join(at, 'onnx', 'decoder_model_merged.onnx');
  copyFileSync(join(root, 't5-a', 'onnx-layout', 'onnx', 'decoder_model_merged.onnx'), merged);
  return merged;
}

/** Sets every mtime in a folder tree `ms` into the past (as if nothing had written there since). */
function age(path: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) age(join(path, n), ms);
  utimesSync(path, then, then);
}

/** Runs `fn` in a fresh scratch folder (removed afterwards), with the HF fixtures in place. */
async function inScratch(fn: (tmp: string) => Promise<void>): Promise<void> {
  ensureHfFixtures();
  const tmp = mkdtempSync(join(tmpdir(), 'quals-split-'));
  try {
    await fn(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('merged decoder split: the derived cache', () => {
  it('records its source, reads the merged file without blocking, and shares one split between concurrent loads', () => inScratch(async (tmp) => {
    const merged = mergedCopy(join(tmp, 'model'));
    const cacheDir = join(tmp, 'cache');
    // The read is asynchronous: a callback queued before the call runs before any split exists.
    let splitBeforeTick: boolean | undefined;
    setImmediate(() => (splitBeforeTick = existsSync(join(cacheDir, 'derived'))));
    const loads = [withPastDecoder(merged, cacheDir), withPastDecoder(merged, cacheDir)];
    assert.equal(splitBeforeTick, undefined, 'the call returned only after the split');
    const [a, b] = await Promise.all(loads);
    assert.equal(splitBeforeTick, false);
    assert.ok(a && a === b, `${a} / ${b}`);
    const dir = splitDir(cacheDir);
    assert.deepEqual(readdirSync(dir), ['decoder_with_past_split.onnx'], 'a temporary file was left');
    assert.deepEqual(JSON.parse(readFileSync(join(dirname(dir), 'source.json'), 'utf8')), { source: merged });
    const bytes = readFileSync(a!);
    assert.equal(await withPastDecoder(merged, cacheDir), a);
    assert.ok(readFileSync(a!).equals(bytes), 'a cache hit rewrote the split');
  }));

  it('a new split prunes the entries of deleted models once untouched for the grace period, and nothing else', () => inScratch(async (tmp) => {
    const cacheDir = join(tmp, 'cache');
    const derived = join(cacheDir, 'derived');
    const entryOf = (target: string | null) => dirname(dirname(target!));
    const gone = entryOf(await withPastDecoder(mergedCopy(join(tmp, 'gone')), cacheDir));
    const kept = entryOf(await withPastDecoder(mergedCopy(join(tmp, 'kept')), cacheDir));
    const recent = entryOf(await withPastDecoder(mergedCopy(join(tmp, 'recent')), cacheDir));
    // Not QUALS's to remove: an entry without a record (an older QUALS's, or one being created),
    // files that are not entries, and the rest of the cache.
    const unrecorded = join(derived, '0123456789abcdef');
    mkdirSync(join(unrecorded, 'fedcba9876543210'), { recursive: true });
    writeFileSync(join(unrecorded, 'fedcba9876543210', 'decoder_with_past_split.onnx'), 'x');
    writeFileSync(join(derived, 'notes.txt'), 'mine');
    mkdirSync(join(cacheDir, 'org--model', 'main'), { recursive: true });
    writeFileSync(join(cacheDir, 'org--model', 'main', 'config.json'), '{}');
    rmSync(join(tmp, 'gone'), { recursive: true });
    rmSync(join(tmp, 'recent'), { recursive: true });
    for (const e of [gone, kept, unrecorded]) age(e, 2 * PRUNE_GRACE_MS);
    // `recent` was written within the grace period: another process may still be writing it.
    age(recent, PRUNE_GRACE_MS / 2);

    const next = await withPastDecoder(mergedCopy(join(tmp, 'next')), cacheDir);
    assert.ok(next && existsSync(next));
    assert.ok(!existsSync(gone), 'the deleted model\'s split is still there');
    for (const e of [kept, recent, unrecorded, join(derived, 'notes.txt'), join(cacheDir, 'org--model', 'main', 'config.json')]) assert.ok(existsSync(e), `${e} was removed`);
    assert.equal(readdirSync(derived).length, 5);
    // Once `recent` is old enough, the next write removes it too.
    age(recent, 2 * PRUNE_GRACE_MS);
    assert.deepEqual(pruneDerived(cacheDir), [recent]);
    assert.ok(existsSync(kept) && existsSync(unrecorded));
  }));

  it('a new split removes the temporary files of a split that never finished, once they are old', () => inScratch(async (tmp) => {
    const cacheDir = join(tmp, 'cache');
    const merged = mergedCopy(join(tmp, 'm'));
    const target = (await withPastDecoder(merged, cacheDir))!;
    const folder = dirname(target);
    rmSync(target); // as if the process writing it had been killed before the rename
    const stale = join(folder, `.${basename(target)}.tmp-1-old`);
    const fresh = join(folder, `.${basename(target)}.tmp-2-now`);
    writeFileSync(stale, 'half a split');
    writeFileSync(fresh, 'another process is writing this');
    age(stale, 2 * PRUNE_GRACE_MS);
    assert.equal(await withPastDecoder(merged, cacheDir), target);
    assert.ok(existsSync(target));
    assert.ok(!existsSync(stale), 'the old temporary file is still there');
    assert.ok(existsSync(fresh), 'a recent temporary file (maybe being written) was removed');
  }));
});
