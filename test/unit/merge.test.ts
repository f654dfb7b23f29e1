// quals merge's core: shard outputs -> one file in input order, with missing/duplicate checks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { mergeShards } from '../../src/batch/merge';
import { runBatch } from '../../src/batch/runner';
import { fakeScorer, pairLine } from './batch-fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-merge-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const p = (name: string) => path.join(tmp, name);
const input = p('in.jsonl');
fs.writeFileSync(input, Array.from({ length: 20 }, (_, i) => (i === 9 ? '{broken' : pairLine(i + 1))).join('\n') + '\n');

async function shards(count: number, prefix: string): Promise<string[]> {
  const files: string[] = [];
  for (let index = 0; index < count; index++) {
    const output = p(`${prefix}-${index}.jsonl`);
    await runBatch({ input, output, mode: 'overwrite', scorer: fakeScorer, shard: { index, count } });
    files.push(output);
  }
  return files;
}

describe('mergeShards', () => {
  test('merged shards are byte-identical to a single run (bad lines included)', async () => {
    const single = p('single.jsonl');
    await runBatch({ input, output: single, mode: 'overwrite', scorer: fakeScorer });
    const out = p('merged.jsonl');
    const rep = await mergeShards({ inputs: (await shards(3, 's3')).reverse(), output: out, expectLines: 20 });
    assert.equal(rep.written, true);
    assert.equal(rep.lines, 20);
    assert.equal(fs.readFileSync(out, 'utf8'), fs.readFileSync(single, 'utf8'));
  });

  test('a missing shard, a duplicated shard and a short tail are reported and nothing is written', async () => {
    const [a, b, c] = await shards(3, 'm');
    const out = p('bad.jsonl');
    const missing = await mergeShards({ inputs: [a!, c!], output: out, expectLines: 20 });
    assert.equal(missing.written, false);
    assert.equal(missing.missingCount, 7);
    assert.deepEqual(missing.missing, [2, 5, 8, 11, 14, 17, 20]);
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'no temporary file left behind');

    const dup = await mergeShards({ inputs: [a!, b!, c!, b!], output: out });
    assert.equal(dup.written, false);
    assert.equal(dup.duplicateCount, 7);
    assert.deepEqual(dup.duplicates.slice(0, 3), [2, 5, 8]);

    const tail = await mergeShards({ inputs: [a!, b!, c!], output: out, expectLines: 22 });
    assert.deepEqual([tail.written, tail.missing], [false, [21, 22]]);
    const extra = await mergeShards({ inputs: [a!, b!, c!], output: out, expectLines: 19 });
    assert.deepEqual([extra.written, extra.extraCount], [false, 1]);
  });

  test('a shard that is torn or out of order is refused with its file and line', async () => {
    const torn = p('torn.jsonl');
    fs.writeFileSync(torn, '{"line":1}\n{"line":2,"sc');
    await assert.rejects(mergeShards({ inputs: [torn], output: p('x.jsonl') }), /torn\.jsonl line 2 is not valid JSON/);
    const unordered = p('unordered.jsonl');
    fs.writeFileSync(unordered, '{"line":3}\n{"line":1}\n');
    await assert.rejects(mergeShards({ inputs: [unordered], output: p('x.jsonl') }), /line 2 is out of input order/);
  });
});
