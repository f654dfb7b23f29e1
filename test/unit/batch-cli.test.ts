// End to end through the built CLI (dist/cli.js) on the toy model: shards as separate processes
// merged vs one process, --workers 2 vs one process, a killed run resumed, eval, conseq and rouge.
// Result lines are compared without `timings`, the only field that differs between runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

const CLI = path.resolve(process.env.QUALS_CLI ?? 'dist/cli.js');
const MODEL = path.resolve('models/tiny-qagen');
const FAST = ['--model', MODEL, '--device', 'cpu', '--beams', '4', '--groups', '2', '--quiet'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-batch-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const p = (name: string) => path.join(tmp, name);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}
function quals(args: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
    onSpawn?.(child);
  });
}
const normalised = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l);
      delete r.timings;
      return JSON.stringify(r);
    });

const PEOPLE = ['Fury', 'Klitschko', 'Joshua', 'Wilder', 'Usyk', 'Parker'];
const CITIES = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna'];
const input = p('in.jsonl');
const single = p('single.jsonl');

before(async () => {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  const lines: string[] = [];
  for (let i = 1; i <= 24; i++) {
    const [a, b, c] = [PEOPLE[i % 6], PEOPLE[(i + 2) % 6], CITIES[i % 6]];
    const summary = i % 3 === 0 ? `${a} beat ${b} in ${CITIES[(i + 1) % 6]}.` : `${a} beat ${b} in ${c}.`;
    lines.push(i === 8 ? '{"id": "d8", "document": "no summary field"}' : JSON.stringify({ id: `d${i}`, document: `${a} beat ${b} in ${c} on Saturday. ${i * 1000} fans watched.`, summary, reference: `${a} won in ${c}.` }));
  }
  fs.writeFileSync(input, lines.join('\n') + '\n');
  const r = await quals(['batch', '--in', input, '--out', single, ...FAST]);
  assert.equal(r.code, 0, r.err);
});

describe('quals batch (CLI, toy model)', () => {
  test('one line per input line; the bad line is reported on stderr and in the output; final summary', async () => {
    const lines = normalised(single).map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.line), Array.from({ length: 24 }, (_, i) => i + 1));
    assert.equal(lines[7].status, 'error');
    assert.match(lines[7].error.message, /^line 8: no "summary" or "highlights" field/);
    for (const l of lines.filter((x) => x.status !== 'error')) assert.equal(l.schemaVersion, 1);
    const r = await quals(['batch', '--in', input, '--out', p('again.jsonl'), ...FAST]);
    assert.match(r.err, /quals batch: line 8: no "summary"/);
    assert.match(r.err, /24 lines \(\d+ scored, \d+ without answerable pairs, 1 errors\), mean QUALS .*-> /);
    const refuse = await quals(['batch', '--in', input, '--out', p('again.jsonl'), ...FAST]);
    assert.equal(refuse.code, 2);
    assert.match(refuse.err, /already exists; pass --resume/);
  });

  test('3 shards in 3 processes, merged, equal the single-process output', async () => {
    const shards = [0, 1, 2].map((i) => p(`shard-${i}.jsonl`));
    const runs = await Promise.all(shards.map((out, i) => quals(['batch', '--in', input, '--out', out, '--shard', `${i}/3`, ...FAST])));
    for (const r of runs) assert.equal(r.code, 0, r.err);
    assert.deepEqual(normalised(shards[1]!).map((l) => JSON.parse(l).line), [2, 5, 8, 11, 14, 17, 20, 23]);
    const merged = p('merged.jsonl');
    const m = await quals(['merge', '--out', merged, '--in', input, ...shards]);
    assert.equal(m.code, 0, m.err);
    assert.deepEqual(normalised(merged), normalised(single));

    const missing = await quals(['merge', '--out', p('merged-2.jsonl'), '--in', input, shards[0]!, shards[2]!]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /8 input lines missing: 2, 5, 8/);
    assert.equal(fs.existsSync(p('merged-2.jsonl')), false);
  });

  test('--workers 2 gives the single-process output, in input order', async () => {
    const out = p('workers.jsonl');
    const r = await quals(['batch', '--in', input, '--out', out, '--workers', '2', ...FAST]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(normalised(out), normalised(single));
  });

  test('a run killed mid-way, with a torn last line, resumes to the single-process output', async () => {
    const out = p('killed.jsonl');
    const killed = await quals(['batch', '--in', input, '--out', out, ...FAST], (child) => {
      const timer = setInterval(() => {
        const n = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').length - 1 : 0;
        if (n >= 5) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', () => clearInterval(timer));
    });
    assert.equal(killed.signal, 'SIGKILL', 'the run finished before it could be killed');
    const kept = normalised(out).length;
    assert.ok(kept >= 5 && kept < 24, `kept ${kept} lines`);
    fs.appendFileSync(out, '{"line":99,"id":"torn","sta');
    const r = await quals(['batch', '--in', input, '--out', out, '--resume', ...FAST]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /dropped a torn last line/);
    assert.match(r.err, new RegExp(`${kept} from an earlier run`));
    assert.deepEqual(normalised(out), normalised(single));
  });

  test('Ctrl-C (SIGINT) stops cleanly with exit 130 and whole lines', async () => {
    const out = p('interrupted.jsonl');
    const r = await quals(['batch', '--in', input, '--out', out, '--workers', '2', ...FAST], (child) => {
      const timer = setInterval(() => {
        if (fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').length > 3) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 5);
      child.on('close', () => clearInterval(timer));
    });
    assert.equal(r.code, 130, r.err);
    assert.match(r.err, /rerun the same command with --resume/);
    const text = fs.readFileSync(out, 'utf8');
    assert.ok(text.endsWith('\n'));
    const done = normalised(out);
    assert.deepEqual(done, normalised(single).slice(0, done.length));
  });

  test('--rouge and --keep add fields to each result line', async () => {
    const out = p('rouge.jsonl');
    const r = await quals(['batch', '--in', input, '--out', out, '--rouge', '--keep', 'reference', ...FAST]);
    assert.equal(r.code, 0, r.err);
    const first = JSON.parse(fs.readFileSync(out, 'utf8').split('\n')[0]!);
    assert.equal(first.reference, 'Klitschko won in London.');
    // "Klitschko beat Usyk in London." vs "Klitschko won in London.": 3 of 5 and 3 of 4 unigrams -> F1 = 2/3.
    assert.ok(Math.abs(first.rouge.rouge1 - 2 / 3) < 1e-12, JSON.stringify(first.rouge));
  });
});

describe('quals eval / conseq / rouge (CLI)', () => {
  test('eval --format qags scores the summaries and reports the correlations and exclusions', async () => {
    const qags = p('qags.jsonl');
    const vote = (yes: boolean) => [0, 1, 2].map((w) => ({ worker_id: w, response: (w === 2 ? !yes : yes) ? 'yes' : 'no' }));
    const records = Array.from({ length: 8 }, (_, i) => ({
      article: `${PEOPLE[i % 6]} beat ${PEOPLE[(i + 1) % 6]} in ${CITIES[i % 6]} on Saturday.`,
      summary_sentences: [{ sentence: `${PEOPLE[i % 6]} beat ${PEOPLE[(i + 1) % 6]}.`, responses: vote(true) }, { sentence: `It was in ${CITIES[(i + i % 2) % 6]}.`, responses: vote(i % 2 === 0) }],
    }));
    fs.writeFileSync(qags, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const report = p('report.json');
    const scored = p('eval-scored.jsonl');
    const r = await quals(['eval', '--in', qags, '--format', 'qags', '--out', scored, '--report', report, '--bootstrap', '200', ...FAST]);
    assert.equal(r.code, 0, r.err);
    const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
    assert.equal(rep.summaries, 8);
    assert.equal(rep.scored + rep.noPairsExcluded + rep.errorsExcluded, 8);
    assert.equal(rep.errorsExcluded, 0);
    assert.match(r.out, /8 summaries: \d+ scored, \d+ without answerable QA pairs \(excluded\)/);
    assert.match(r.out, /Pearson.*\n.*Spearman.*\n.*Kendall tau-b/);
    const labels = fs.readFileSync(scored, 'utf8').trim().split('\n').map((l) => JSON.parse(l).label);
    assert.deepEqual(labels, [1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5]);
  });

  test('batch --keep then conseq writes the four files', async () => {
    const pairs = p('conseq-pairs.jsonl');
    const rows: string[] = [];
    for (let d = 0; d < 4; d++) {
      const document = `${PEOPLE[d]} beat ${PEOPLE[d + 1]} in ${CITIES[d]} on Saturday.`;
      rows.push(JSON.stringify({ doc_id: `doc${d}`, role: 'reference', document, summary: `${PEOPLE[d]} beat ${PEOPLE[d + 1]} in ${CITIES[d]}.` }));
      for (let k = 0; k < 3; k++) rows.push(JSON.stringify({ doc_id: `doc${d}`, role: 'sample', document, summary: `${PEOPLE[(d + k) % 6]} beat ${PEOPLE[d + 1]} in ${CITIES[(d + k) % 6]}.` }));
    }
    fs.writeFileSync(pairs, rows.join('\n') + '\n');
    const scored = p('conseq-scored.jsonl');
    const b = await quals(['batch', '--in', pairs, '--out', scored, '--mode', 'reference', '--keep', 'doc_id,role,document,summary', ...FAST]);
    assert.equal(b.code, 0, b.err);
    const outDir = p('conseq');
    const c = await quals(['conseq', '--scored', scored, '--out-dir', outDir, '--negative-percent', '50', '--positive-percent', '50']);
    assert.equal(c.code, 0, c.err);
    assert.deepEqual(fs.readdirSync(outDir).sort(), ['negative.jsonl', 'pairs.jsonl', 'positive.jsonl', 'stats.json']);
    const stats = JSON.parse(fs.readFileSync(path.join(outDir, 'stats.json'), 'utf8'));
    assert.equal(stats.documents, 4);
    assert.equal(stats.lines, 16);
    assert.equal(stats.references.scored + stats.references.noPairs, 4);
    assert.match(c.out, /training set \(in both\): \d+ documents/);
  });

  test('rouge on two files prints F1 x 100; usage errors exit 1', async () => {
    fs.writeFileSync(p('s.txt'), 'The cat sat on the mat.');
    fs.writeFileSync(p('r.txt'), 'the cat was on the mat');
    const r = await quals(['rouge', '--summary', p('s.txt'), '--reference', p('r.txt')]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'ROUGE-1 83.33  ROUGE-2 60.00  ROUGE-L 83.33');
    const bad = await quals(['batch', '--in', input]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--out FILE/);
    const shard = await quals(['batch', '--in', input, '--out', p('x.jsonl'), '--shard', '3/3']);
    assert.equal(shard.code, 1);
    assert.match(shard.err, /0-based/);
  });
});
