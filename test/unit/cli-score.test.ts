import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureTestModel } from '../../src/modelgen/random-bart';

const randomModel = ensureTestModel(join(tmpdir(), 'quals-test-models', 'tiny-1234'), { size: 'tiny', seed: 1234 });
const work = mkdtempSync(join(tmpdir(), 'quals-cli-'));
const file = (name: string, content: string | Buffer) => {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
};
const source = file('source.txt', 'Fury beat Klitschko in Dusseldorf on Saturday.');
const summary = file('summary.txt', 'Fury beat Klitschko.');

function quals(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('quals score on the toy model', () => {
  const garbled = file('garbled.txt', 'Fury beat Klitschko in Paris on Saturday.');
  it('prints a readable report: score, pairs worst first, suspect spans marked', () => {
    const r = quals('score', '--source', source, '--summary', garbled, '--device', 'cpu', '--threshold=-0.3');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Pairs, worst first:\n {2}✗ +-\d+\.\d{3} +.*"Paris"/, 'the worst pair is the garbled place');
    assert.match(r.out, /^QUALS -?\d+\.\d{3}/);
    assert.match(r.out, /Pairs, worst first:/);
    const scores = [...r.out.matchAll(/^ {2}[✓✗] +(-?\d+\.\d{3})/gm)].map((m) => Number(m[1]));
    assert.ok(scores.length > 0);
    assert.deepEqual(scores, [...scores].sort((a, b) => a - b), 'worst first');
    assert.match(r.out, /\[\[Paris\]\]/, 'the garbled place is marked');
  });

  it('--json prints the result schema', () => {
    const r = quals('score', '--source', source, '--summary', garbled, '--device', 'cpu', '--json');
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(r.out);
    assert.equal(result.schemaVersion, 1);
    assert.equal(result.status, 'ok');
    assert.equal(typeof result.score, 'number');
    assert.ok(result.pairs.every((p: { spans: unknown[] }) => Array.isArray(p.spans)));
  });
});

describe('quals score: usage and bad input', () => {
  it('no arguments: usage, exit 1', () => {
    const r = quals('score', '--source', source);
    assert.equal(r.code, 1);
    assert.match(r.err, /--summary FILE/);
  });

  it('unknown flag: exit 1 with a pointer to --help', () => {
    const r = quals('score', '--sauce', source);
    assert.equal(r.code, 1);
    assert.match(r.err, /--help/);
  });

  it('bad option value: exit 1, one line', () => {
    const r = quals('score', '--source', source, '--summary', summary, '--model', randomModel, '--beams', 'many');
    assert.equal(r.code, 1);
    assert.match(r.err, /--beams needs a number/);
  });

  const badInputs: [string, string | Buffer, RegExp][] = [
    ['missing.txt', '', /does not exist/],
    ['empty.txt', '  \n', /is empty/],
    ['binary.bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x01]), /looks binary/],
    ['latin1.txt', Buffer.from([0x46, 0xfc, 0x72, 0x79]), /not valid UTF-8/],
  ];
  for (const [name, content, pattern] of badInputs) {
    it(`${name}: exit 2, one clear line, no stack trace`, () => {
      const p = name === 'missing.txt' ? join(work, name) : file(name, content);
      const r = quals('score', '--source', p, '--summary', summary, '--model', randomModel);
      assert.equal(r.code, 2);
      assert.match(r.err, pattern);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.doesNotMatch(r.err, /\s+at\s/);
    });
  }

  it('model folder missing: exit 3 with a message naming the folder', () => {
    const r = quals('score', '--source', source, '--summary', summary, '--model', join(work, 'no-model'));
    assert.equal(r.code, 3);
    assert.match(r.err, /no-model/);
    assert.doesNotMatch(r.err, /\s+at\s/);
  });

  it('a model whose output never has the format\'s shape: exit 3, "format is probably wrong"', () => {
    const r = quals('score', '--source', source, '--summary', summary, '--model', randomModel, '--beams', '4', '--groups', '2', '--device', 'cpu');
    assert.equal(r.code, 3);
    assert.match(r.err, /format is probably wrong/);
  });
});
