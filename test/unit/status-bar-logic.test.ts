import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tally, tallyMessage } from '../../src/client/check-all-logic';
import { statusBarView } from '../../src/client/status-bar-logic';

const done = (score: number | null) => ({ uri: 'file:///a.summary.md', version: 1, state: 'done' as const, score });

test('status bar: the verdict in words, with the action that fits', () => {
  assert.deepEqual(statusBarView(true, done(-0.72), undefined, 2)?.text, '$(warning) QUALS: 2 unsupported');
  assert.equal(statusBarView(true, done(-0.72), undefined, 2)?.command, 'workbench.actions.view.problems');
  assert.match(statusBarView(true, done(-0.72), undefined, 2)!.tooltip, /Score -0\.72 /);
  assert.equal(statusBarView(true, done(-0.01), undefined, 0)?.text, '$(check) QUALS: consistent');
  assert.equal(statusBarView(true, done(null), undefined, 0)?.text, '$(info) QUALS: no QA pairs');
  const noModel = statusBarView(true, { ...done(null), state: 'error' }, { state: 'error', model: '', code: 'not-configured' }, 0);
  assert.deepEqual([noModel?.text, noModel?.command], ['$(circle-slash) QUALS: no model — choose...', 'quals.chooseModel']);
  assert.equal(statusBarView(false, undefined, undefined, 0)?.command, 'quals.restartServer');
});

test('status bar: nothing on files QUALS does not check', () => {
  assert.equal(statusBarView(true, { uri: 'file:///README.md', version: 1, state: 'unpaired', message: 'No source' }, { state: 'error', model: '', code: 'not-configured' }, 0), undefined);
  assert.equal(statusBarView(true, undefined, undefined, 0), undefined);
});

test('check all: the tally counts summaries and findings, not unpaired files', () => {
  let t = { checked: 0, findings: 0, filesWithFindings: 0, failed: 0 };
  t = tally(t, { state: 'done', flagged: 2 });
  t = tally(t, { state: 'done', flagged: 0 });
  t = tally(t, { state: 'unpaired' });
  t = tally(t, { state: 'error', message: 'x' });
  assert.deepEqual(t, { checked: 2, findings: 2, filesWithFindings: 1, failed: 1 });
  assert.equal(tallyMessage(t, false), 'QUALS checked the workspace: 2 summaries, 2 finding(s) in 1 file(s), 1 could not be checked.');
  assert.equal(tallyMessage({ checked: 0, findings: 0, filesWithFindings: 0, failed: 0 }, true), 'QUALS check stopped: no paired summaries or datasets found.');
});
