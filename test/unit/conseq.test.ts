// ConSeq selection on a hand-made table, and the two-pass file builder on a scored JSONL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildConseq } from '../../src/conseq/build';
import { authorsCount, pythonRound, selectConseq, takeCount, type DocScores } from '../../src/conseq/select';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-conseq-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// doc: reference QUALS, sample QUALS (null = no answerable pairs)
const TABLE: [string, number | null, (number | null)[]][] = [
  ['d1', -0.1, [-0.5, -2.0]],
  ['d2', -0.2, [-0.3]],
  ['d3', -1.5, [-3.0, -0.1]],
  ['d4', -0.05, [-1.0]],
  ['d5', -0.9, [-0.2]],
  ['d6', -0.12, [-2.5]],
  ['d7', null, [-4.0]],
  ['d8', -0.15, [null]],
  ['d9', -2.0, [-0.4]],
  ['d10', -0.25, [-0.6, -0.7]],
];
const docs: DocScores[] = TABLE.map(([id, reference, samples]) => {
  const scored = samples.filter((s): s is number => s !== null);
  return { id, reference, worstSample: scored.length ? Math.min(...scored) : null };
});

describe('selectConseq', () => {
  test('50%/50% on the hand-made table', () => {
    // Worst samples, lowest first (d8 has none): d7 -4, d3 -3, d6 -2.5, d1 -2, d4 -1, ... -> floor(9 * 0.5) = 4.
    // References, highest first (d7 has none): d4 -0.05, d1 -0.1, d6 -0.12, d8 -0.15, d2 -0.2, ... -> 4.
    const s = selectConseq(docs, { negativePercent: 50, positivePercent: 50, rule: 'rankable' });
    assert.deepEqual([...s.negatives], ['d7', 'd3', 'd6', 'd1']);
    assert.deepEqual([...s.positives], ['d4', 'd1', 'd6', 'd8']);
    assert.deepEqual(s.training, ['d1', 'd6']);
    assert.equal(s.negativeCutoff, -2.0);
    assert.equal(s.positiveCutoff, -0.15);
    assert.deepEqual([s.rankedForNegative, s.rankedForPositive], [9, 9]);
  });

  test('the paper default 30%/30% takes floor(9 x 0.3) = 2 of each', () => {
    const s = selectConseq(docs, { negativePercent: 30, positivePercent: 30, rule: 'rankable' });
    assert.deepEqual([...s.negatives], ['d7', 'd3']);
    assert.deepEqual([...s.positives], ['d4', 'd1']);
    assert.deepEqual(s.training, []);
  });

  test('ties at the cut keep input order; bad percentages are refused', () => {
    const tied: DocScores[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, reference: -1, worstSample: -1 }));
    assert.deepEqual([...selectConseq(tied, { negativePercent: 50, positivePercent: 25, rule: 'rankable' }).negatives], ['a', 'b']);
    assert.deepEqual([...selectConseq(tied, { negativePercent: 50, positivePercent: 25, rule: 'rankable' }).positives], ['a']);
    assert.equal(takeCount(10, 30), 3);
    assert.equal(takeCount(7, 30), 2);
    assert.equal(takeCount(10, 100), 10);
    assert.throws(() => selectConseq(tied, { negativePercent: 120, positivePercent: 30 }), /between 0 and 100/);
  });
});

describe("selectConseq, the authors' counting rule (evaluate_hypo.py make_unlikelihood_dataset)", () => {
  test("round(ratio x N) of all N documents, Python's half-to-even round on the float product", () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(pythonRound), [0, 2, 2, 4, 2, 3]);
    // 0.3 x 5 = 1.5 -> 2, 0.3 x 15 = 4.5 -> 4, 0.3 x 10 = 3.0000000000000004 -> 3, 0.3 x 9 = 2.6999999999999997 -> 3
    assert.deepEqual([5, 15, 10, 9, 7].map((n) => authorsCount(n, 30)), [2, 4, 3, 3, 2]);
    assert.equal(authorsCount(9, 30), 3, 'the rankable rule gives floor(9 x 0.3) = 2');
  });

  test('30%/30% on the hand-made table: N = 10 documents, unscored ones rank last', () => {
    // round(0.3 x 10) = 3 each. Worst samples: d7 -4, d3 -3, d6 -2.5; references: d4, d1, d6.
    const s = selectConseq(docs, { negativePercent: 30, positivePercent: 30 });
    assert.deepEqual([...s.negatives], ['d7', 'd3', 'd6']);
    assert.deepEqual([...s.positives], ['d4', 'd1', 'd6']);
    assert.deepEqual(s.training, ['d6']);
    assert.deepEqual([s.rankedForNegative, s.rankedForPositive], [10, 10]);
    assert.deepEqual(s.unscoredTaken, { negative: 0, positive: 0 });
  });

  test('a count that reaches the unscored takes them (the authors\' 1e5 sentinel), when the document has the line', () => {
    const s = selectConseq(
      docs.map((d) => ({ ...d, hasReference: d.id !== 'd7', hasSample: true })),
      { negativePercent: 100, positivePercent: 100 },
    );
    assert.equal(s.negatives.size, 10);
    assert.equal(s.positives.size, 9, 'd7 has no reference line: nothing to write');
    assert.deepEqual(s.unscoredTaken, { negative: 1, positive: 0 });
    assert.equal(s.negativeCutoff, -0.2, 'the cut-off is the last scored value');
  });
});

describe('buildConseq', () => {
  // One line per (document, summary), roles interleaved across documents as a shuffled run would be.
  const lines: string[] = [];
  let line = 0;
  for (let round = 0; round < 3; round++) {
    for (const [id, ref, samples] of TABLE) {
      const add = (role: string, summary: string, score: number | null) =>
        lines.push(JSON.stringify({ line: ++line, id, role, document: `Text of ${id}.`, summary, status: score === null ? 'no-pairs' : 'ok', score }));
      if (round === 0) add('reference', `reference of ${id}`, ref);
      else if (samples[round - 1] !== undefined) add('sample', `sample ${round} of ${id}`, samples[round - 1]!);
    }
  }
  lines.splice(4, 0, '{"line": 99, "status": "error", "score": null, "error": {"code": "empty-text", "message": "line 99: field \\"summary\\" is empty"}}', 'not json');

  test('writes the training pairs, both sides, and stats', async () => {
    const scored = path.join(tmp, 'scored.jsonl');
    fs.writeFileSync(scored, lines.join('\n') + '\n');
    const outDir = path.join(tmp, 'out');
    const warnings: string[] = [];
    const stats = await buildConseq({ scored, outDir, negativePercent: 50, positivePercent: 50, rule: 'rankable', warn: (w) => warnings.push(w) });
    const read = (f: string) => fs.readFileSync(path.join(outDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(read('positive.jsonl'), [
      { id: 'd1', document: 'Text of d1.', summary: 'reference of d1', score: -0.1 },
      { id: 'd6', document: 'Text of d6.', summary: 'reference of d6', score: -0.12 },
    ]);
    assert.deepEqual(read('negative.jsonl'), [
      { id: 'd6', document: 'Text of d6.', summary: 'sample 1 of d6', score: -2.5 },
      { id: 'd1', document: 'Text of d1.', summary: 'sample 2 of d1', score: -2.0 },
    ]);
    assert.deepEqual(read('pairs.jsonl'), [
      { id: 'd6', document: 'Text of d6.', positive: 'reference of d6', negative: 'sample 1 of d6', positiveScore: -0.12, negativeScore: -2.5 },
      { id: 'd1', document: 'Text of d1.', positive: 'reference of d1', negative: 'sample 2 of d1', positiveScore: -0.1, negativeScore: -2.0 },
    ]);
    const onDisk = JSON.parse(fs.readFileSync(path.join(outDir, 'stats.json'), 'utf8'));
    assert.deepEqual(onDisk, stats);
    assert.equal(stats.lines, 25);
    assert.equal(stats.badLines, 2);
    assert.equal(stats.documents, 10);
    assert.deepEqual(stats.references, { scored: 9, noPairs: 1 });
    assert.deepEqual(stats.samples, { scored: 12, noPairs: 1 });
    assert.deepEqual([stats.negativeSet, stats.positiveSet, stats.trainingSet], [4, 4, 2]);
    assert.equal(stats.documentsWithoutScoredSample, 1);
    assert.match(warnings[0]!, /line 5: a batch error record/);
    assert.match(warnings[1]!, /line 6: invalid JSON/);

    await assert.rejects(buildConseq({ scored, outDir, negativePercent: 50, positivePercent: 50 }), /already exists; pass --overwrite/);
    await buildConseq({ scored, outDir, negativePercent: 30, positivePercent: 30, rule: 'rankable', overwrite: true });
    assert.deepEqual(read('pairs.jsonl'), []);
    assert.deepEqual(fs.readdirSync(outDir).sort(), ['negative.jsonl', 'pairs.jsonl', 'positive.jsonl', 'stats.json'], 'no temporary files left');
  });

  test('default: reference-mode scores and the authors\' rule; paper-mode lines are refused unless asked for', async () => {
    const withMode = (mode: string) => lines.map((l) => (l.startsWith('{"line": 99') || l === 'not json' ? l : JSON.stringify({ ...JSON.parse(l), mode })));
    const scored = path.join(tmp, 'scored-modes.jsonl');
    fs.writeFileSync(scored, withMode('reference').join('\n') + '\n');
    const stats = await buildConseq({ scored, outDir: path.join(tmp, 'o-ref'), negativePercent: 30, positivePercent: 30 });
    assert.equal(stats.rule, 'authors');
    assert.equal(stats.scoreMode, 'reference');
    assert.equal(stats.linesWithoutMode, 0);
    assert.deepEqual([stats.negativeSet, stats.positiveSet, stats.trainingSet], [3, 3, 1]);
    fs.writeFileSync(scored, withMode('paper').join('\n') + '\n');
    await assert.rejects(buildConseq({ scored, outDir: path.join(tmp, 'o-paper'), negativePercent: 30, positivePercent: 30 }), /scored in paper mode.*--mode reference.*--score-mode paper/);
    const paper = await buildConseq({ scored, outDir: path.join(tmp, 'o-paper'), negativePercent: 30, positivePercent: 30, scoreMode: 'paper', rule: 'rankable' });
    assert.deepEqual([paper.negativeSet, paper.positiveSet, paper.trainingSet], [2, 2, 0]);
  });

  test('a scored file without the texts is refused with the command that adds them', async () => {
    const scored = path.join(tmp, 'no-texts.jsonl');
    fs.writeFileSync(scored, [{ id: 'a', role: 'reference', score: -0.1 }, { id: 'a', role: 'sample', score: -1 }].map((r) => JSON.stringify(r)).join('\n'));
    await assert.rejects(buildConseq({ scored, outDir: path.join(tmp, 'o2'), negativePercent: 100, positivePercent: 100 }), /--keep document,summary,role/);
    assert.deepEqual(fs.readdirSync(path.join(tmp, 'o2')), [], 'nothing written');
  });
});
