// The batch machinery with a cheap injected scorer: JSONL streaming, torn lines, sharding,
// ordered concurrency, bad lines, resume, progress output, and memory on a 10k-line file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { after, describe, test } from 'node:test';
import { countLines, dropTornTail, LineAppender, readLines } from '../../src/batch/jsonl';
import { mapOrdered } from '../../src/batch/ordered';
import { ProgressReporter } from '../../src/batch/progress';
import { BatchInputError, runBatch } from '../../src/batch/runner';
import { inShard, parseShard, shardSize } from '../../src/batch/shard';
import { ModelError } from '../../src/scoring/errors';
import { fakeScorer, pairLine } from './batch-fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-batch-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const file = (content?: string) => {
  const p = path.join(tmp, `f${++n}.jsonl`);
  if (content !== undefined) fs.writeFileSync(p, content);
  return p;
};
const readJsonl = (p: string) => fs.readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('jsonl', () => {
  test('readLines numbers physical lines, strips a BOM, handles CRLF and a missing final newline', async () => {
    const p = file('\ufeff{"a":1}\r\n\r\n{"a":2}\n{"a":3}');
    assert.deepEqual(await collect(readLines(p)), [
      { lineNo: 1, text: '{"a":1}' },
      { lineNo: 2, text: '' },
      { lineNo: 3, text: '{"a":2}' },
      { lineNo: 4, text: '{"a":3}' },
    ]);
    assert.equal(countLines(p), 4);
    assert.equal(countLines(file('a\nb\n')), 2);
    assert.equal(countLines(file('')), 0);
  });

  test('dropTornTail removes a partial last line and nothing else', () => {
    const p = file('{"line":1}\n{"line":2}\n{"li');
    assert.equal(dropTornTail(p), 4);
    assert.equal(fs.readFileSync(p, 'utf8'), '{"line":1}\n{"line":2}\n');
    assert.equal(dropTornTail(p), 0);
    const q = file('{"torn"');
    assert.equal(dropTornTail(q), 7);
    assert.equal(fs.readFileSync(q, 'utf8'), '');
  });

  test('LineAppender writes complete lines and appends across opens', () => {
    const p = file();
    const a = LineAppender.open(p);
    a.append({ x: 'line\nbreak inside a string' });
    a.close();
    const b = LineAppender.open(p);
    b.append({ x: 2 });
    b.close();
    assert.deepEqual(readJsonl(p), [{ x: 'line\nbreak inside a string' }, { x: 2 }]);
  });
});

describe('shard', () => {
  test('N shards cover every line exactly once, balanced', () => {
    for (const count of [1, 2, 3, 7]) {
      const seen = new Array(50).fill(0);
      for (let index = 0; index < count; index++) {
        let size = 0;
        for (let line = 1; line <= 50; line++) if (inShard(line, { index, count })) (seen[line - 1]++, size++);
        assert.equal(shardSize(50, { index, count }), size);
      }
      assert.deepEqual(seen, new Array(50).fill(1));
    }
    assert.equal(shardSize(2, { index: 2, count: 3 }), 0);
  });

  test('parseShard accepts i/N and explains what is wrong otherwise', () => {
    assert.deepEqual(parseShard('2/5'), { index: 2, count: 5 });
    assert.throws(() => parseShard('5/5'), /0-based.*0\/5 to 4\/5/);
    assert.throws(() => parseShard('1-of-3'), /i\/N/);
    assert.throws(() => parseShard('0/0'), /at least 1/);
  });
});

describe('mapOrdered', () => {
  test('yields in input order while running up to `concurrency` calls at once', async () => {
    let active = 0;
    let peak = 0;
    async function* src() {
      for (let i = 0; i < 40; i++) yield i;
    }
    const out = await collect(
      mapOrdered(src(), { concurrency: 4 }, async (i) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, (i * 7919) % 13));
        active--;
        return i * 2;
      }),
    );
    assert.deepEqual(out, Array.from({ length: 40 }, (_, i) => i * 2));
    assert.equal(peak, 4);
  });

  test('does not run ahead of a slow head item by more than maxAhead', async () => {
    let pulled = 0;
    async function* src() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const it = mapOrdered(src(), { concurrency: 2, maxAhead: 5 }, async (i) => {
      if (i === 0) await slow;
      return i;
    });
    const first = it.next();
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(pulled <= 6, `pulled ${pulled} items while the first was pending`);
    release();
    assert.deepEqual(await first, { value: 0, done: false });
    await it.return(undefined);
  });

  test('a rejected call surfaces as the error of the loop', async () => {
    async function* src() {
      yield* [1, 2, 3];
    }
    await assert.rejects(
      collect(
        mapOrdered(src(), { concurrency: 2 }, async (i) => {
          if (i === 2) throw new Error('boom');
          return i;
        }),
      ),
      /boom/,
    );
  });
});

describe('runBatch', () => {
  test('one output line per input line, in order; bad lines reported with line numbers and the run goes on', async () => {
    const input = file(
      [pairLine(1), '{not json', '', JSON.stringify({ id: 'x', document: 'D' }), JSON.stringify({ document: 'D', summary: '   ' }), '[1,2]', pairLine(7, { summary: 'has nopairs' }), pairLine(8)].join('\n') + '\n',
    );
    const out = file();
    const warnings: string[] = [];
    const s = await runBatch({ input, output: out, mode: 'overwrite', scorer: fakeScorer, concurrency: 3, warn: (l) => warnings.push(l) });
    const lines = readJsonl(out);
    assert.deepEqual(
      lines.map((l) => [l.line, l.id, l.status, l.error?.code ?? null]),
      [
        [1, 'd1', 'ok', null],
        [2, null, 'error', 'invalid-json'],
        [3, null, 'error', 'empty-line'],
        [4, 'x', 'error', 'missing-field'],
        [5, null, 'error', 'empty-text'],
        [6, null, 'error', 'not-object'],
        [7, 'd7', 'no-pairs', null],
        [8, 'd8', 'ok', null],
      ],
    );
    assert.equal(lines[0]!.schemaVersion, 1, 'result lines carry the engine schema');
    assert.match(lines[3]!.error.message, /^line 4: no "summary" or "highlights" field/);
    assert.deepEqual(warnings.map((w) => w.split(':')[0]), ['line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    assert.equal(s.lines, 8);
    assert.equal(s.ok, 2);
    assert.equal(s.noPairs, 1);
    assert.equal(s.errors, 5);
    assert.ok(Math.abs(s.meanScore! - (lines[0]!.score + lines[7]!.score) / 2) < 1e-12);
  });

  test('scorer failures become error lines; the article/highlights layout is found by default', async () => {
    const input = file([JSON.stringify({ article: 'A', highlights: 'fail me' }), JSON.stringify({ article: 'A', highlights: 'fine' })].join('\n'));
    const out = file();
    await runBatch({
      input,
      output: out,
      mode: 'new',
      scorer: async (s, m) => {
        if (m === 'fail me') throw new Error('too odd');
        return fakeScorer(s, m);
      },
    });
    const lines = readJsonl(out);
    assert.deepEqual(lines[0]!.error, { code: 'scoring-failed', message: 'line 1: too odd' });
    assert.equal(lines[1]!.status, 'ok');
  });

  test('a model error on one pair is a bad line; on 20 pairs in a row it stops the run', async () => {
    const input = file(Array.from({ length: 25 }, (_, i) => pairLine(i + 1)).join('\n'));
    const odd = file();
    await runBatch({
      input,
      output: odd,
      mode: 'new',
      scorer: async (s, m) => {
        if (m === 'Summary 3!!!') throw new ModelError('format', 'No well-formed pair.');
        return fakeScorer(s, m);
      },
    });
    assert.deepEqual(readJsonl(odd)[2]!.error, { code: 'model-format', message: 'line 3: No well-formed pair.' });
    const broken = file();
    await assert.rejects(
      runBatch({ input, output: broken, mode: 'new', scorer: async () => Promise.reject(new ModelError('format', 'No well-formed pair.')) }),
      (e) => e instanceof ModelError && e.message === '20 lines in a row failed with: No well-formed pair.',
    );
    assert.equal(readJsonl(broken).length, 19);
  });

  test('refuses to clobber an existing output without resume/overwrite', async () => {
    const input = file(pairLine(1));
    const out = file('{"line":1}\n');
    await assert.rejects(runBatch({ input, output: out, mode: 'new', scorer: fakeScorer }), (e) => e instanceof BatchInputError && /--resume.*--overwrite/.test(e.message));
    await assert.rejects(runBatch({ input: path.join(tmp, 'nope.jsonl'), output: file(), mode: 'new', scorer: fakeScorer }), /Input file not found/);
  });

  test('resume after an interrupted run with a torn last line gives the same file as one full run', async () => {
    const input = file(Array.from({ length: 30 }, (_, i) => pairLine(i + 1)).join('\n'));
    const full = file();
    await runBatch({ input, output: full, mode: 'new', scorer: fakeScorer, concurrency: 2 });

    const part = file();
    const ac = new AbortController();
    const first = await runBatch({
      input,
      output: part,
      mode: 'new',
      scorer: fakeScorer,
      concurrency: 2,
      signal: ac.signal,
      onLine: (lineNo) => lineNo === 12 && ac.abort(),
    });
    assert.equal(first.interrupted, true);
    assert.equal(first.lines, 12);
    fs.appendFileSync(part, '{"line":13,"id":"d13","sta'); // what a crash mid-write could leave
    const warnings: string[] = [];
    const second = await runBatch({ input, output: part, mode: 'resume', scorer: fakeScorer, warn: (l) => warnings.push(l) });
    assert.equal(second.resumed, 12);
    assert.equal(second.lines, 30);
    assert.ok(second.tornBytes > 0);
    assert.match(warnings[0]!, /torn last line/);
    assert.equal(fs.readFileSync(part, 'utf8'), fs.readFileSync(full, 'utf8'));
  });

  test('resume refuses an output written for another shard', async () => {
    const input = file(Array.from({ length: 6 }, (_, i) => pairLine(i + 1)).join('\n'));
    const out = file();
    await runBatch({ input, output: out, mode: 'new', scorer: fakeScorer, shard: { index: 0, count: 2 } });
    assert.deepEqual(readJsonl(out).map((l) => l.line), [1, 3, 5]);
    await assert.rejects(runBatch({ input, output: out, mode: 'resume', scorer: fakeScorer, shard: { index: 1, count: 2 } }), /not in shard 1\/2/);
  });

  test('streams a 10k-line file in bounded memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const filler = 'x'.repeat(2000);
    const input = file();
    const fd = fs.openSync(input, 'w');
    for (let i = 1; i <= 10_000; i++) fs.writeSync(fd, JSON.stringify({ id: i, document: `${filler} ${i}`, summary: `s ${i}` }) + '\n');
    fs.closeSync(fd);
    const size = fs.statSync(input).size;
    const samples = new Map<number, { heap: number; rss: number }>();
    gc();
    const before = process.memoryUsage().heapUsed;
    await runBatch({
      input,
      output: file(),
      mode: 'new',
      scorer: fakeScorer,
      concurrency: 4,
      onLine: (lineNo) => {
        if (lineNo === 1000 || lineNo === 10_000) {
          gc();
          const m = process.memoryUsage();
          samples.set(lineNo, { heap: m.heapUsed, rss: m.rss });
        }
      },
    });
    const growth = samples.get(10_000)!.heap - samples.get(1000)!.heap;
    const rssGrowth = samples.get(10_000)!.rss - samples.get(1000)!.rss;
    console.log(`# 10k lines (${(size / 1e6).toFixed(1)} MB): heap growth ${(growth / 1e6).toFixed(2)} MB, RSS growth ${(rssGrowth / 1e6).toFixed(2)} MB`);
    // Reading the file up front would add ~20 MB by line 1000; holding lines would add ~18 MB after.
    assert.ok(samples.get(1000)!.heap - before < 3e6, `heap grew by ${samples.get(1000)!.heap - before} bytes by line 1000`);
    assert.ok(growth < 3e6, `heap grew by ${growth} bytes over 9000 lines`);
  });
});

describe('progress', () => {
  test('plain lines every interval when not a terminal; a redrawn bar with rate and ETA on one', () => {
    let t = 0;
    const plain: string[] = [];
    const p = new ProgressReporter({ write: (s) => plain.push(s), isTTY: false }, { plainEveryMs: 10_000, now: () => t, label: 'quals batch' });
    for (let done = 1; done <= 30; done++) {
      t = done * 1000;
      p.update({ done, resumed: 0, errors: 1, total: 60 });
    }
    p.finish();
    assert.deepEqual(plain, [
      'quals batch: 1/60 lines, 1 errors, 1.00 lines/s, ETA 59s\n',
      'quals batch: 11/60 lines, 1 errors, 1.00 lines/s, ETA 49s\n',
      'quals batch: 21/60 lines, 1 errors, 1.00 lines/s, ETA 39s\n',
    ]);

    t = 0;
    const tty: string[] = [];
    const b = new ProgressReporter({ write: (s) => tty.push(s), isTTY: true, columns: 60 }, { now: () => t });
    t = 120_000;
    b.update({ done: 30, resumed: 0, errors: 0, total: 120 });
    b.finish();
    assert.match(tty[0]!, /^\r\[#+-+\] 30\/120 0\.3\/s ETA 6m00s\x1b\[K$/);
    assert.equal(tty[1], '\n');
  });
});
