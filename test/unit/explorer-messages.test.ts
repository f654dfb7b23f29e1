import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQualsResult, parseFromView, parseToView } from '../../src/shared/explorer-messages';
import { fixtureResult, fixtureVerdicts } from './explorer-fixture';

const summary = { uri: 'file:///w/s.md', name: 's.md' };

test('view -> extension: well-formed messages pass, everything else is dropped', () => {
  assert.deepEqual(parseFromView({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromView({ type: 'revealPair', summaryUri: 'file:///a', pairId: 'q1', extra: 1 }), { type: 'revealPair', summaryUri: 'file:///a', pairId: 'q1' });
  assert.deepEqual(parseFromView({ type: 'action', action: 'saveReport' }), { type: 'action', action: 'saveReport' });
  assert.deepEqual(parseFromView({ type: 'rendered', kind: 'result', pairIds: ['q2'], selectedPairId: null }), { type: 'rendered', kind: 'result', pairIds: ['q2'], selectedPairId: null });
  assert.equal(parseFromView({ type: 'rendered', kind: 'bogus', pairIds: [], selectedPairId: null }), undefined);
  for (const bad of [null, 'ready', [], { type: 'revealPair', pairId: 'q1' }, { type: 'showInSource', summaryUri: 1, pairId: 'q1' }, { type: 'action', action: 'workbench.action.terminal.new' }, { type: 'eval' }]) {
    assert.equal(parseFromView(bad), undefined, JSON.stringify(bad));
  }
});

test('extension -> view: states are checked before rendering', () => {
  const ok = { type: 'update', state: { kind: 'result', summary, source: summary, result: fixtureResult(), settings: { threshold: -1 }, verdicts: fixtureVerdicts(), rescoring: false, outdated: false } };
  assert.equal(parseToView(ok)?.type, 'update');
  // A result that went through JSON (as over LSP and postMessage) is still valid.
  assert.equal(parseToView(JSON.parse(JSON.stringify(ok)))?.type, 'update');
  assert.deepEqual(parseToView({ type: 'focusPair', pairId: 'q2' }), { type: 'focusPair', pairId: 'q2' });
  assert.equal(parseToView({ type: 'update', state: { kind: 'not-paired', summary } })?.type, 'update');
  assert.equal(parseToView({ type: 'update', state: { kind: 'not-paired' } }), undefined);
  assert.equal(parseToView({ type: 'update', state: { kind: 'model-missing', summary: null, message: 'x' } })?.type, 'update');
  assert.equal(parseToView({ type: 'update', state: { kind: 'whatever' } }), undefined);
  assert.equal(parseToView({ type: 'update', state: { ...ok.state, settings: {} } }), undefined);
  // Every pair needs a known verdict: a badge is never guessed from the score.
  const { q2: _dropped, ...missing } = ok.state.verdicts;
  assert.equal(parseToView({ type: 'update', state: { ...ok.state, verdicts: missing } }), undefined);
  assert.equal(parseToView({ type: 'update', state: { ...ok.state, verdicts: { ...ok.state.verdicts, q1: { verdict: 'fine' } } } }), undefined);
});

test('result validation rejects results the view would mis-render', () => {
  assert.ok(isQualsResult(fixtureResult()));
  const broken = [
    (r: any) => (r.status = 'maybe'),
    (r: any) => (r.score = '1'),
    (r: any) => delete r.model.device,
    (r: any) => (r.source.tokensKept = -1),
    (r: any) => (r.pairs[0].question = 42),
    (r: any) => (r.pairs[0].tokens[0].role = 'bos'),
    (r: any) => (r.pairs[0].tokens[0].logpSource = Number.NaN),
    (r: any) => (r.pairs[0].spans[0].range = null),
    (r: any) => (r.pairs[0].sourceAnswer.agrees = 'yes'),
  ];
  for (const breakIt of broken) {
    const r = fixtureResult();
    breakIt(r);
    assert.equal(isQualsResult(r), false, breakIt.toString());
  }
  const r = fixtureResult();
  r.pairs[0]!.tokens[0]!.logpSource = -Infinity;
  r.pairs[0]!.sourceAnswer = null;
  assert.ok(isQualsResult(r), '-Infinity log p and a missing source answer are legitimate');
});
