// The worker pool across real process boundaries (forked Node processes speaking the IPC protocol),
// with a cheap scorer in the workers so the test is about scheduling, order and failures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runBatch } from '../../src/batch/runner';
import { WorkerPool } from '../../src/batch/worker-pool';
import { WorkerCrashError } from '../../src/batch/worker-protocol';
import { InputError, ModelError } from '../../src/scoring/errors';
import { fakeScorer, pairLine } from './batch-fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-pool-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const script = path.join(__dirname, 'fixtures', 'fake-worker.ts');
const start = (init: unknown, size = 2) => WorkerPool.start({ size, script, args: [], execArgv: ['--import', 'tsx'], init });
const readJsonl = (p: string) => fs.readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

describe('WorkerPool', () => {
  test('two workers share the lines; output order and scores equal an in-process run', async () => {
    const input = path.join(tmp, 'in.jsonl');
    fs.writeFileSync(input, Array.from({ length: 40 }, (_, i) => pairLine(i + 1)).join('\n') + '\n' + JSON.stringify({ document: 'D', summary: 'bad' }) + '\n');
    const single = path.join(tmp, 'single.jsonl');
    await runBatch({ input, output: single, mode: 'new', scorer: fakeScorer });
    const pool = await start({ delayMs: 2 });
    const pooled = path.join(tmp, 'pooled.jsonl');
    try {
      await runBatch({ input, output: pooled, mode: 'new', scorer: pool.score, concurrency: pool.size });
    } finally {
      await pool.close();
    }
    const a = readJsonl(single);
    const b = readJsonl(pooled);
    assert.deepEqual(b.slice(0, 40).map((l) => [l.line, l.id, l.score]), a.slice(0, 40).map((l) => [l.line, l.id, l.score]));
    assert.equal(new Set(b.slice(0, 40).map((l) => l.model.name)).size, 2, 'both workers scored lines');
    // An InputError thrown in a worker arrives as an InputError: a bad line, not a failed run.
    assert.deepEqual(b[40]!.error, { code: 'input-empty', message: 'line 41: The summary is empty.' });
  });

  test('a worker that cannot load the model fails start() with its error, as the same class', async () => {
    await assert.rejects(start({ fail: true }), (e) => e instanceof ModelError && e.code === 'not-found' && e.message === 'No model at /nowhere.');
  });

  test('a worker that dies mid-run stops the batch with a resumable error', async () => {
    const input = path.join(tmp, 'crash.jsonl');
    fs.writeFileSync(input, [pairLine(1), JSON.stringify({ document: 'D', summary: 'crash' }), pairLine(3)].join('\n'));
    const out = path.join(tmp, 'crash-out.jsonl');
    const pool = await start({}, 1);
    try {
      await assert.rejects(runBatch({ input, output: out, mode: 'new', scorer: pool.score, concurrency: 1 }), (e) => e instanceof WorkerCrashError && /--resume/.test(e.message));
    } finally {
      await pool.close();
    }
    assert.deepEqual(readJsonl(out).map((l) => l.line), [1]);
  });

  test('InputError instances survive the IPC round trip', async () => {
    const pool = await start({}, 1);
    try {
      await assert.rejects(pool.score('D', 'bad'), (e) => e instanceof InputError && e.code === 'empty');
    } finally {
      await pool.close();
    }
  });
});
