import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTestModel } from '../../src/modelgen/random-bart';
import { ModelError } from '../../src/scoring/errors';
import { greedyContinuations } from '../../src/scoring/model/generate';
import { type LoadedModel, loadModel } from '../../src/scoring/model/loader';
import { floatData } from '../../src/scoring/model/ort';

const dir = ensureTestModel(join(tmpdir(), 'quals-test-models', 'tiny-1234'), { size: 'tiny', seed: 1234 });

function logSoftmax(row: Float32Array): Float64Array {
  let m = -Infinity;
  for (const x of row) m = Math.max(m, x);
  let z = 0;
  for (const x of row) z += Math.exp(x - m);
  const lz = m + Math.log(z);
  return Float64Array.from(row, (x) => x - lz);
}

describe('seq2seq runtime on a random tiny BART', () => {
  let model: LoadedModel;
  before(async () => {
    model = await loadModel({ model: dir, device: 'cpu' });
  });
  after(async () => {
    await model?.dispose();
  });

  const source = 'The team won the match in Paris and he scored 12 goals.';
  const target = [5, 40, 41, 7, 99, 42, 2];

  it('cached step-by-step decoding equals one teacher-forced pass (max abs diff < 1e-4)', async () => {
    const sm = model.seq2seq;
    const enc = await sm.encode(model.format.encodeInput(source).ids);
    const [tf] = await sm.teacherForce(enc, [target], 1e9);
    let state = sm.startState(enc, 1);
    let logits = enc.firstLogits;
    let maxDiff = 0;
    for (let t = 0; t < target.length; t++) {
      const lp = logSoftmax(floatData(logits).subarray(0, sm.vocabOf(logits)));
      maxDiff = Math.max(maxDiff, Math.abs(lp[target[t]!]! - tf![t]!));
      ({ logits, state } = await sm.step(state, [target[t]!]));
    }
    assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
  });

  it('teacher forcing gives the same log-probs whatever the chunk size and padding', async () => {
    const sm = model.seq2seq;
    const enc = await sm.encode(model.format.encodeInput(source).ids);
    const targets = [target, [9, 8, 7, 2], [30, 31, 32, 33, 34, 35, 36, 37, 2]];
    const together = await sm.teacherForce(enc, targets, 1e9);
    const oneByOne = await sm.teacherForce(enc, targets, 1); // forces one row per chunk
    for (let i = 0; i < targets.length; i++) {
      assert.equal(together[i]!.length, targets[i]!.length);
      together[i]!.forEach((v, t) => assert.ok(Math.abs(v - oneByOne[i]![t]!) < 1e-5));
    }
  });

  it('the top-k helper graph agrees with a JavaScript log-softmax', async () => {
    const sm = model.seq2seq;
    const enc = await sm.encode(model.format.encodeInput(source).ids);
    const V = sm.vocabOf(enc.firstLogits);
    const row = floatData(enc.firstLogits).subarray(0, V);
    const top = await sm.helpers.topK(row, V, 5, [2]);
    const lp = logSoftmax(row);
    const order = [...lp.keys()].sort((a, b) => lp[b]! - lp[a]!);
    assert.deepEqual(Array.from(top.ids), order.slice(0, 5));
    assert.ok(Math.abs(top.extraLogp[0]! - lp[2]!) < 1e-5);
  });

  it('greedy continuation after a forced prompt matches argmax of teacher forcing', async () => {
    const sm = model.seq2seq;
    const enc = await sm.encode(model.format.encodeInput(source).ids);
    const [g] = await greedyContinuations(sm, enc, [[5, 40]], (id) => id === 2, 4);
    // Re-derive each greedy token from a full teacher-forced pass of prompt + continuation.
    const full = [5, 40, ...g!.ids];
    const [tf] = await sm.teacherForce(enc, [full], 1e9);
    g!.ids.forEach((_, j) => assert.ok(Math.abs(tf![2 + j]! - g!.logp[j]!) < 1e-4));
  });

  it('device auto falls back to CPU and says why when no GPU provider loads', async () => {
    const lines: string[] = [];
    const m = await loadModel({ model: dir, device: 'auto', log: (l) => lines.push(l) });
    try {
      if (m.seq2seq.provider === 'cpu' && process.platform === 'linux') assert.match(lines.join('\n'), /GPU provider 'cuda' unavailable, using CPU/);
    } finally {
      await m.dispose();
    }
  });

  it('an explicit GPU device that cannot start is a provider error, not a silent fallback', async (t) => {
    if (process.env.QUALS_EXPECT_CUDA) return t.skip('CUDA is expected to work here');
    await assert.rejects(loadModel({ model: dir, device: 'cuda' }), (e: unknown) => e instanceof ModelError && e.code === 'provider' && /cuda/.test(e.message));
  });

  it('a missing format is a clear error naming quals.json', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'quals-noformat-'));
    const { cpSync, rmSync } = await import('node:fs');
    cpSync(dir, bare, { recursive: true });
    rmSync(join(bare, 'quals.json'));
    await assert.rejects(loadModel({ model: bare, device: 'cpu' }), (e: unknown) => e instanceof ModelError && e.code === 'format' && /quals\.json/.test(e.message));
    await assert.rejects(loadModel({ model: bare, device: 'cpu', format: 'nonsense' as 'qagen' }), (e: unknown) => e instanceof ModelError && e.code === 'format');
  });
});
