// quals eval's pieces: QAGS labels, record -> (pair, label), and the report over scored lines.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_FIELDS } from '../../src/batch/fields';
import { evaluate, formatReport, labelledExtractor } from '../../src/cli/commands/eval';
import { majorityVote, parseQagsRecord } from '../../src/metrics/qags-labels';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-eval-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const votes = (...r: string[]) => r.map((response, worker_id) => ({ worker_id, response }));
const QAGS = {
  article: 'the cat sat on the mat . it was warm .',
  summary_sentences: [
    { sentence: 'the cat sat .', responses: votes('yes', 'yes', 'no') },
    { sentence: 'it was cold .', responses: votes('no', 'no', 'yes') },
    { sentence: 'the mat was warm .', responses: votes('yes', 'no', 'yes') },
  ],
};

describe('QAGS labels', () => {
  test('label = mean over sentences of the majority vote', () => {
    const r = parseQagsRecord(QAGS, 1);
    assert.ok(r.ok);
    assert.equal(r.value.label, 2 / 3);
    assert.equal(r.value.summary, 'the cat sat . it was cold . the mat was warm .');
    assert.equal(r.value.sentences, 3);
    assert.equal(majorityVote(['yes', 'no']), 0.5);
    assert.equal(majorityVote(['no', 'no', 'yes']), 0);
  });

  test('malformed annotations are bad lines with a reason', () => {
    const bad = parseQagsRecord({ ...QAGS, summary_sentences: [{ sentence: 's', responses: votes('maybe') }] }, 7);
    assert.ok(!bad.ok);
    assert.equal(bad.error.message, 'line 7: summary_sentences[0] has a response other than "yes"/"no"');
    const none = parseQagsRecord({ article: 'a', summary_sentences: [] }, 8);
    assert.ok(!none.ok && /non-empty array/.test(none.error.message));
  });

  test('auto format: QAGS records by shape, generic lines with a numeric label field', () => {
    const ex = labelledExtractor('auto', DEFAULT_FIELDS, 'human');
    const q = ex(QAGS, 1);
    assert.ok(q.ok && q.value.label === 2 / 3 && q.value.pair.source === QAGS.article);
    const g = ex({ id: 'x', document: 'D', summary: 'S', human: 0.25 }, 2);
    assert.ok(g.ok);
    assert.deepEqual(g.value, { pair: { id: 'x', source: 'D', summary: 'S' }, label: 0.25 });
    const missing = ex({ document: 'D', summary: 'S', label: 1 }, 3);
    assert.ok(!missing.ok && /no numeric "human" field/.test(missing.error.message));
  });
});

describe('evaluate', () => {
  test('correlates score with label over scored lines; no-pairs and errors are excluded and counted', async () => {
    const scored = path.join(tmp, 'scored.jsonl');
    const rows = [
      { line: 1, status: 'ok', score: -0.1, label: 1 },
      { line: 2, status: 'ok', score: -2.0, label: 0 },
      { line: 3, status: 'no-pairs', score: null, label: 1 },
      { line: 4, status: 'ok', score: -0.5, label: 2 / 3 },
      { line: 5, status: 'error', score: null, error: { code: 'bad-annotation', message: 'x' } },
      { line: 6, status: 'ok', score: -1.0, label: 1 / 3 },
      { line: 7, status: 'ok', score: -0.3, label: 1 / 3 },
    ];
    fs.writeFileSync(scored, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const rep = await evaluate('in.jsonl', scored, { resamples: 200, seed: 1, level: 0.95 });
    assert.deepEqual([rep.summaries, rep.scored, rep.noPairsExcluded, rep.errorsExcluded], [7, 5, 1, 1]);
    // scores -0.1 -2 -0.5 -1 -0.3 vs labels 1 0 2/3 1/3 1/3: of 10 pairs, 8 concordant, 1 discordant
    // ((-0.5, 2/3) vs (-0.3, 1/3)) and 1 tied in label only ((-1, 1/3) vs (-0.3, 1/3)): tau-b = 7 / sqrt(10 * 9).
    assert.ok(Math.abs(rep.correlations.kendall.estimate - 7 / Math.sqrt(90)) < 1e-12);
    assert.equal(rep.correlations.n, 5);
    const text = formatReport(rep);
    assert.match(text, /^7 summaries: 5 scored, 1 without answerable QA pairs \(excluded\), 1 bad lines \(excluded\)/);
    assert.match(text, /Kendall tau-b\s+0\.7379\s+\[/);
  });
});
