import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkModel } from '../../src/cli/commands/model-check';

const BART_EXPORT = path.join(__dirname, '..', 'fixtures', 'hf-reference', 'bart-a', 'onnx-layout');
const T5_EXPORT = path.join(__dirname, '..', 'fixtures', 'hf-reference', 't5-a', 'onnx-layout');

test('a genuine Optimum BART export is consistent the way the engine runs it, and its multi-token with-past branch is reported as wrong', async () => {
  const r = await checkModel({ model: BART_EXPORT, format: 'qagen', device: 'cpu' });
  assert.deepEqual(r.problems, []);
  assert.ok(r.cachedVsOnePass < 1e-3, `cached vs one pass ${r.cachedVsOnePass}`);
  // Optimum traced the with-past branch for one token: several at once come out nats off.
  assert.ok(r.withPastMultiToken > 1, `with-past multi-token off by only ${r.withPastMultiToken}`);
  assert.match(r.separator, /ĠstrutConnector = 50259/);
  assert.equal(r.vocabulary.config, 50265);
  assert.equal(r.maxInputTokens, 1024);
  assert.match(r.architecture, /BartForConditionalGeneration/);
});

test('a T5 export checks out under the lmqg format', async () => {
  const r = await checkModel({ model: T5_EXPORT, format: 'lmqg', device: 'cpu' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.vocabulary.logits, 1100);
});

test('a quals.json that wrongly claims multi-token cached passes fails the check (exit 3 in the CLI)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-check-'));
  try {
    fs.cpSync(BART_EXPORT, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'quals.json'), JSON.stringify({ format: 'qagen', graphs: { builder: 'hand-written', multiTokenCache: true } }));
    const r = await checkModel({ model: dir, device: 'cpu' });
    // Scoring would then go through the broken branch: both the inconsistency and its cause are named.
    assert.equal(r.problems.length, 2, r.problems.join('\n'));
    assert.match(r.problems[0]!, /cached step-by-step decoding and one teacher-forced pass differ/);
    assert.match(r.problems[1]!, /with-past branch takes several tokens at once/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
