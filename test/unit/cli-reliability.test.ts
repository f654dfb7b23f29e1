/**
 * Hostile-input reliability of the CLI and the batch layer (issue 14): outputs never destroy
 * inputs, output errors are one line and exit 2 without torn lines, the worker pool does not keep
 * an abort listener per pair, FIFOs/devices do not hang `score`, stdin works for `score`,
 * terminal escapes do not reach the readable report, QAGS annotation lines work in `batch`, and
 * non-UTF-8 lines are reported instead of scored as U+FFFD.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runBatch } from '../../src/batch/runner';
import { LineAppender, readLines } from '../../src/batch/jsonl';
import { assertOutputsAreNotInputs, OutputError } from '../../src/batch/output-files';
import { WorkerPool } from '../../src/batch/worker-pool';
import { WorkerCrashError } from '../../src/batch/worker-protocol';
import { safeForTerminal } from '../../src/cli/terminal-text';
import { fakeScorer, pairLine } from './batch-fixtures';

const CLI = path.resolve('dist/cli.js');
const MODEL = path.resolve('models/tiny-qagen');
const SCORE = ['--model', MODEL, '--device', 'cpu', '--beams', '4', '--groups', '2'];
const FAST = [...SCORE, '--quiet'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-reliability-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const p = (name: string) => path.join(tmp, name);

interface Run {
  code: number | null;
  out: string;
  err: string;
}
function quals(args: string[], opts: { input?: string; timeoutMs?: number; shell?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = opts.shell
      ? spawn('bash', ['-c', `${opts.shell}; exec "$0" "$@"`, process.execPath, CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
const oneLine = (r: Run) => {
  assert.doesNotMatch(r.err, /\n\s+at /, `a stack trace: ${r.err}`);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
};

const input = p('in.jsonl');
before(() => {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  fs.writeFileSync(input, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `d${i}`, document: `Fury beat Klitschko in Paris on day ${i}.`, summary: `Fury beat Klitschko in Rome on day ${i}.`, reference: 'Fury won.' })).join('\n') + '\n');
});

describe('an output that is an input is refused before anything is written (exit 2)', () => {
  const before = () => fs.readFileSync(input, 'utf8');
  test('batch --in a --out a --overwrite, also through a symlink and a hard link', async () => {
    const text = before();
    fs.symlinkSync(input, p('link.jsonl'));
    fs.linkSync(input, p('hard.jsonl'));
    for (const out of [input, p('link.jsonl'), p('hard.jsonl'), path.relative(process.cwd(), input)]) {
      const r = await quals(['batch', '--in', input, '--out', out, '--overwrite', ...FAST]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /is the input .*would destroy the input/);
      oneLine(r);
      assert.equal(fs.readFileSync(input, 'utf8'), text);
    }
  });
  test('eval --in d --out d --overwrite; eval --report naming the input; --report over a file without --overwrite', async () => {
    const text = before();
    const a = await quals(['eval', '--in', input, '--out', input, '--overwrite', '--format', 'jsonl', ...FAST]);
    assert.equal(a.code, 2, a.err);
    const b = await quals(['eval', '--in', input, '--report', input, '--overwrite', ...FAST]);
    assert.equal(b.code, 2, b.err);
    fs.writeFileSync(p('precious.json'), 'keep me');
    const c = await quals(['eval', '--in', input, '--report', p('precious.json'), ...FAST]);
    assert.equal(c.code, 2, c.err);
    assert.match(c.err, /already exists; pass --overwrite/);
    assert.equal(fs.readFileSync(p('precious.json'), 'utf8'), 'keep me');
    assert.equal(fs.readFileSync(input, 'utf8'), text);
  });
  test('merge --out SHARD, rouge --out IN, conseq writing over its --scored file', async () => {
    const shard = p('shard.jsonl');
    fs.writeFileSync(shard, '{"line":1,"status":"ok","score":1}\n');
    const m = await quals(['merge', '--out', shard, '--overwrite', shard]);
    assert.equal(m.code, 2, m.err);
    assert.equal(fs.readFileSync(shard, 'utf8'), '{"line":1,"status":"ok","score":1}\n');
    const text = before();
    const r = await quals(['rouge', '--in', input, '--out', input, '--overwrite']);
    assert.equal(r.code, 2, r.err);
    assert.equal(fs.readFileSync(input, 'utf8'), text);
    fs.mkdirSync(p('cq'));
    fs.writeFileSync(p('cq/pairs.jsonl'), '{"doc_id":"a","role":"reference","score":1}\n');
    const c = await quals(['conseq', '--scored', p('cq/pairs.jsonl'), '--out-dir', p('cq'), '--overwrite']);
    assert.equal(c.code, 2, c.err);
    assert.equal(fs.readFileSync(p('cq/pairs.jsonl'), 'utf8'), '{"doc_id":"a","role":"reference","score":1}\n');
  });
  test('unit: path, relative path, symlink and inode are all the same file; distinct outputs pass', () => {
    assert.throws(() => assertOutputsAreNotInputs([input], [input]), OutputError);
    assert.throws(() => assertOutputsAreNotInputs([input], [p('x/../in.jsonl')]), OutputError);
    assert.throws(() => assertOutputsAreNotInputs([input], [p('new.json'), p('new.json')]), /two outputs/);
    assert.doesNotThrow(() => assertOutputsAreNotInputs([input, '-'], [p('other.jsonl'), '-']));
  });
  test('batch --overwrite replaces the old output only at the end: a failing run leaves it whole', async () => {
    const out = p('old-output.jsonl');
    fs.writeFileSync(out, '{"line":1,"old":true}\n');
    // A crashed worker fails the whole run (a bad line would not).
    await assert.rejects(runBatch({ input, output: out, mode: 'overwrite', scorer: async () => { throw new WorkerCrashError('worker 1 exited'); } }), WorkerCrashError);
    assert.equal(fs.readFileSync(out, 'utf8'), '{"line":1,"old":true}\n');
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
    await runBatch({ input, output: out, mode: 'overwrite', scorer: fakeScorer });
    assert.equal(fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 6);
  });
});

describe('output errors: one line, exit 2, no torn line', () => {
  test('a missing folder, a folder as the output, a full device', async () => {
    for (const [out, why] of [
      [p('no/such/dir/out.jsonl'), /its folder does not exist \(ENOENT\)/],
      [tmp, /it is a folder \(EISDIR\)|already exists/],
      ['/dev/full', /no space left on the device \(ENOSPC\)/],
    ] as const) {
      const r = await quals(['batch', '--in', input, '--out', out, '--overwrite', ...FAST]);
      assert.equal(r.code, 2, `${out}: ${r.err}`);
      assert.match(r.err, why);
      oneLine(r);
    }
    const m = await quals(['merge', '--out', p('no/such/merged.jsonl'), p('shard.jsonl')]);
    assert.equal(m.code, 2, m.err);
    oneLine(m);
  });
  test('the file system refusing a write mid-line (file size limit) leaves only whole lines', async () => {
    const out = p('limited.jsonl');
    // 1 block of 512 bytes fits a line or two; the next line is cut by the limit (EFBIG).
    const r = await quals(['batch', '--in', input, '--out', out, ...FAST], { shell: 'ulimit -f 4' });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /too large for the file system \(EFBIG\)/);
    const text = fs.readFileSync(out, 'utf8');
    assert.ok(text.length > 0 && text.endsWith('\n'), `a torn last line: ${JSON.stringify(text.slice(-40))}`);
    for (const line of text.split('\n').filter(Boolean)) JSON.parse(line);
    const resumed = await quals(['batch', '--in', input, '--out', out, '--resume', ...FAST]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 6);
  });
  test('unit: a failed append truncates back to the last whole line', () => {
    const a = LineAppender.open('/dev/full');
    assert.throws(() => a.append({ x: 1 }), (e: unknown) => e instanceof OutputError && /ENOSPC/.test(e.message));
    a.close();
  });
});

test('--workers: no abort listener is kept per pair (the leak that held every document)', async () => {
  const script = path.join(__dirname, 'fixtures', 'fake-worker.ts');
  const pool = await WorkerPool.start({ size: 2, script, args: [], execArgv: ['--import', 'tsx'], init: {} });
  const ac = new AbortController();
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const big = 'x'.repeat(20_000);
    // As runBatch calls it: pool-size pairs in flight at a time, one long-lived signal.
    for (let i = 0; i < 300; i += 2) await Promise.all([0, 1].map((k) => pool.score(big + (i + k), `Summary ${i + k}`, ac.signal)));
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    const f = p('pool-in.jsonl');
    fs.writeFileSync(f, Array.from({ length: 100 }, (_, i) => pairLine(i + 1)).join('\n') + '\n');
    await runBatch({ input: f, output: p('pool-out.jsonl'), mode: 'new', scorer: pool.score, concurrency: pool.size, signal: ac.signal });
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  } finally {
    process.off('warning', onWarning);
    await pool.close();
  }
  assert.ok(!warnings.includes('MaxListenersExceededWarning'), warnings.join(', '));
});

describe('quals score inputs', () => {
  test('a FIFO or a character device is refused at once instead of hanging', async () => {
    const fifo = p('fifo');
    spawnSync('mkfifo', [fifo]);
    fs.writeFileSync(p('summary.txt'), 'Fury won in Rome.\n');
    for (const src of [fifo, '/dev/zero']) {
      const t0 = Date.now();
      const r = await quals(['score', '--source', src, '--summary', p('summary.txt'), ...SCORE], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${src}: ${r.err}`);
      assert.match(r.err, /not a regular file \(a pipe or device\)/);
      assert.ok(Date.now() - t0 < 15_000);
    }
  });
  test('--source - reads stdin; --summary - too; both - is a usage error', async () => {
    fs.writeFileSync(p('source.txt'), 'Fury beat Klitschko in Dusseldorf on Saturday.\n');
    const a = await quals(['score', '--source', '-', '--summary', p('summary.txt'), '--json', ...SCORE], { input: 'Fury beat Klitschko in Dusseldorf on Saturday.\n' });
    assert.equal(a.code, 0, a.err);
    const b = await quals(['score', '--source', p('source.txt'), '--summary', '-', '--json', ...SCORE], { input: 'Fury won in Rome.\n' });
    assert.equal(b.code, 0, b.err);
    assert.deepEqual({ ...JSON.parse(a.out), timings: 0 }, { ...JSON.parse(b.out), timings: 0 });
    const c = await quals(['score', '--source', '-', '--summary', '-', ...SCORE]);
    assert.equal(c.code, 1);
  });
  test('ONNX Runtime writes nothing under HOME (~/.cache/Microsoft/DeveloperTools)', async () => {
    const home = p('home');
    fs.mkdirSync(home);
    const { XDG_CACHE_HOME: _x, ORT_DISABLE_TELEMETRY: _o, ...env } = process.env;
    const r = spawnSync(process.execPath, [CLI, 'score', '--source', p('source.txt'), '--summary', p('summary.txt'), ...SCORE], { env: { ...env, HOME: home }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(home), []);
  });
  test('terminal escapes in the texts do not reach the readable report', async () => {
    const evil = 'Fury beat Klitschko in Paris.\u001b[2J\u001b]52;c;ZXZpbA==\u0007 He won.\u009b31m\n';
    fs.writeFileSync(p('evil-summary.txt'), evil);
    fs.writeFileSync(p('evil-source.txt'), `Fury beat Klitschko in Dusseldorf. ${evil}`);
    const r = await quals(['score', '--source', p('evil-source.txt'), '--summary', p('evil-summary.txt'), '--model', MODEL, '--device', 'cpu']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Summary \(/, 'the summary is shown');
    assert.doesNotMatch(r.out, /[\u001b\u0007\u009b]/);
    assert.match(r.out, /\u241b\[2J/, 'the escape is shown as a visible ␛');
    assert.equal(safeForTerminal('a\u001b[2Jb\tc\nd\re').length, 'a\u001b[2Jb\tc\nd\re'.length);
    const json = await quals(['score', '--source', p('evil-source.txt'), '--summary', p('evil-summary.txt'), '--json', ...SCORE]);
    assert.ok(JSON.parse(json.out), 'JSON output keeps the texts (escaped by JSON)');
  });
});

describe('batch inputs', () => {
  test('QAGS annotation lines are scored by batch as eval reads them', async () => {
    const qags = p('qags.jsonl');
    const rec = (i: number) => ({ article: `Fury beat Klitschko in Dusseldorf on day ${i}.`, summary_sentences: [{ sentence: `Fury beat Klitschko in Paris on day ${i}.`, responses: [{ response: 'no' }, { response: 'no' }, { response: 'yes' }] }] });
    fs.writeFileSync(qags, [rec(1), rec(2)].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await quals(['batch', '--in', qags, '--out', p('qags-out.jsonl'), ...FAST]);
    assert.equal(r.code, 0, r.err);
    const lines = fs.readFileSync(p('qags-out.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.status === 'error'), [false, false], JSON.stringify(lines.map((l) => l.error)));
  });
  test('a line that is not UTF-8 is a bad line (not-utf8), not a U+FFFD text; CRLF lines still read', async () => {
    const f = p('latin1.jsonl');
    const good = Buffer.from(pairLine(1) + '\r\n');
    const bad = Buffer.concat([Buffer.from('{"document": "Caf'), Buffer.from([0xe9]), Buffer.from('", "summary": "ok"}\n')]);
    fs.writeFileSync(f, Buffer.concat([good, bad, Buffer.from(pairLine(3) + '\n')]));
    const lines = [];
    for await (const l of readLines(f)) lines.push(l);
    assert.deepEqual(lines.map((l) => [l.lineNo, Boolean(l.notUtf8)]), [[1, false], [2, true], [3, false]]);
    assert.equal(lines[0]!.text, pairLine(1));
    const out = p('latin1-out.jsonl');
    await runBatch({ input: f, output: out, mode: 'new', scorer: fakeScorer });
    const res = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(res.map((r) => r.status === 'error' ? r.error.code : 'ok'), ['ok', 'not-utf8', 'ok']);
  });
});
