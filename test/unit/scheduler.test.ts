import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../src/server/scheduler';
import { CancelledError } from '../../src/scoring/errors';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A job that waits until released or aborted, recording what happened. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const job = async (signal: AbortSignal) => {
    log.push(`start ${name}`);
    await Promise.race([released, new Promise((r) => signal.addEventListener('abort', r))]);
    if (signal.aborted) {
      log.push(`abort ${name}`);
      throw new CancelledError();
    }
    log.push(`end ${name}`);
    return name;
  };
  return { job, release };
}

test('debounce: rescheduling within the delay runs only the last job', async () => {
  const s = new Scheduler<unknown>();
  const runs: string[] = [];
  const a = s.schedule('doc', 30, async () => runs.push('a'));
  await tick();
  const b = s.schedule('doc', 30, async () => runs.push('b'));
  const outcome = await a;
  assert.equal(outcome.cancelled, true);
  assert.equal(outcome.cancelled && outcome.supersededBy, b, 'a superseded job points at its successor');
  assert.equal((await b).cancelled, false);
  assert.deepEqual(runs, ['b']);
});

test('a running job is aborted through its signal when superseded', async () => {
  const s = new Scheduler<unknown>();
  const log: string[] = [];
  const g1 = gate(log, 'v1');
  const p1 = s.schedule('doc', 0, g1.job);
  await tick();
  const p2 = s.schedule('doc', 0, async () => 'v2');
  assert.equal((await p1).cancelled, true);
  assert.deepEqual(await p2, { cancelled: false, value: 'v2' });
  assert.deepEqual(log, ['start v1', 'abort v1']);
  assert.equal(s.has('doc'), false);
});

test('jobs of different documents run one at a time, in order', async () => {
  const s = new Scheduler<unknown>();
  const log: string[] = [];
  const a = gate(log, 'a');
  const b = gate(log, 'b');
  const pa = s.schedule('A', 0, a.job);
  const pb = s.schedule('B', 0, b.job);
  await tick();
  assert.deepEqual(log, ['start a'], 'b waits for a');
  a.release();
  await pa;
  await tick();
  assert.deepEqual(log, ['start a', 'end a', 'start b']);
  b.release();
  assert.deepEqual(await pb, { cancelled: false, value: 'b' });
});

test('a queued job cancelled before it starts never runs, and does not block the queue', async () => {
  const s = new Scheduler<unknown>();
  const log: string[] = [];
  const a = gate(log, 'a');
  const pa = s.schedule('A', 0, a.job);
  const pb = s.schedule('B', 0, async () => log.push('b ran'));
  const pc = s.schedule('C', 0, async () => 'c');
  s.cancel('B');
  assert.deepEqual(await pb, { cancelled: true });
  a.release();
  await pa;
  assert.deepEqual(await pc, { cancelled: false, value: 'c' });
  assert.ok(!log.includes('b ran'));
});

test('an outside AbortSignal cancels; job errors reject without stopping the queue', async () => {
  const s = new Scheduler<unknown>();
  const outside = new AbortController();
  const log: string[] = [];
  const g = gate(log, 'x');
  const px = s.schedule('X', 0, g.job, outside.signal);
  await tick();
  outside.abort();
  assert.deepEqual(await px, { cancelled: true });
  await assert.rejects(s.schedule('Y', 0, async () => { throw new Error('model broke'); }), /model broke/);
  assert.deepEqual(await s.schedule('Z', 0, async () => 1), { cancelled: false, value: 1 });
  const pre = new AbortController();
  pre.abort();
  assert.deepEqual(await s.schedule('W', 0, async () => 1, pre.signal), { cancelled: true });
});

test('cancelAll clears pending timers', async () => {
  const s = new Scheduler<unknown>();
  let ran = false;
  const p = s.schedule('A', 10_000, async () => (ran = true));
  s.cancelAll();
  assert.deepEqual(await p, { cancelled: true });
  assert.equal(ran, false);
  assert.equal(s.has('A'), false);
});

test('a caller can follow a superseded check to the result of the check that replaced it', async () => {
  const s = new Scheduler<string>();
  const first = s.schedule('doc', 0, async () => 'old');
  s.schedule('doc', 0, async () => 'new');
  let outcome = await first;
  while (outcome.cancelled && outcome.supersededBy) outcome = await outcome.supersededBy;
  assert.deepEqual(outcome, { cancelled: false, value: 'new' });
  s.cancel('doc');
  const lone = s.schedule('doc', 0, async () => 'x');
  s.cancel('doc');
  assert.deepEqual(await lone, { cancelled: true }, 'a plain cancel has no successor');
});
