import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplorerState } from '../../src/shared/explorer-messages';
import { focusPair, keyToMove, moveSelection, reconcileSelection } from '../../webview/controller';
import { DEFAULT_UI, type UiState } from '../../webview/render';
import { fixtureResult, fixtureVerdicts } from './explorer-fixture';

const doc = (name: string) => ({ uri: `file:///w/${name}`, name });
const result = fixtureResult();
result.pairs[2]!.score = -5; // score order q3, q2, q1; summary order q2, q1, q3
const state: ExplorerState = { kind: 'result', summary: doc('s.md'), source: doc('d.md'), result, settings: { threshold: -1 }, verdicts: fixtureVerdicts(result), rescoring: false, outdated: false };

test('the worst pair is selected when nothing (or a vanished pair) is selected', () => {
  assert.equal(reconcileSelection(state, DEFAULT_UI).selectedPairId, 'q3');
  assert.equal(reconcileSelection(state, { ...DEFAULT_UI, selectedPairId: 'q9' }).selectedPairId, 'q3');
  assert.equal(reconcileSelection(state, { ...DEFAULT_UI, selectedPairId: 'q1' }).selectedPairId, 'q1');
  assert.equal(reconcileSelection({ kind: 'no-summary', candidate: null }, DEFAULT_UI).selectedPairId, null);
});

test('a filter that hides the selected pair moves the selection to a listed one', () => {
  const ui = reconcileSelection(state, { ...DEFAULT_UI, selectedPairId: 'q1', flaggedOnly: true });
  assert.equal(ui.selectedPairId, 'q3');
});

test('arrow keys, Home and End walk the list in its current order and stop at the ends', () => {
  let ui: UiState = { ...DEFAULT_UI, selectedPairId: 'q3' };
  const walk = (key: string) => (ui = moveSelection(state, ui, keyToMove(key)!)).selectedPairId;
  assert.equal(walk('ArrowDown'), 'q2');
  assert.equal(walk('ArrowDown'), 'q1');
  assert.equal(walk('ArrowDown'), 'q1');
  assert.equal(walk('Home'), 'q3');
  assert.equal(walk('ArrowUp'), 'q3');
  assert.equal(walk('End'), 'q1');
  ui = { ...ui, sort: 'position', selectedPairId: 'q2' };
  assert.equal(walk('ArrowDown'), 'q1');
  assert.equal(walk('ArrowDown'), 'q3');
  assert.equal(keyToMove('Enter'), undefined);
  assert.equal(keyToMove('a'), undefined);
});

test('focusing a pair from the hover link lifts a filter that hides it', () => {
  const ui = focusPair(state, { ...DEFAULT_UI, flaggedOnly: true }, 'q1');
  assert.deepEqual([ui.selectedPairId, ui.flaggedOnly], ['q1', false]);
  const kept = focusPair(state, { ...DEFAULT_UI, flaggedOnly: true }, 'q2');
  assert.deepEqual([kept.selectedPairId, kept.flaggedOnly], ['q2', true]);
  assert.equal(focusPair(state, DEFAULT_UI, 'nope'), DEFAULT_UI);
});
