/**
 * The QA-pair explorer view in a real VS Code on the fixture pair (news/fury.summary.md says
 * "Paris" where news/fury.md says "Dusseldorf"). The webview reports what it rendered
 * (`rendered` messages), so these tests see the real page's rows, not just the provider's state.
 * The suite runs in the extension host and cannot click inside the webview's iframe: pair clicks
 * are sent through `quals.explorer._fromView`, the same validated path the view's messages take.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ExplorerState, FromViewMessage } from '../../../src/shared/explorer-messages';
import { api, open, waitFor, workspaceUri } from './helpers';

type Rendered = Extract<FromViewMessage, { type: 'rendered' }>;
type ResultState = Extract<ExplorerState, { kind: 'result' }>;

const viewState = () => vscode.commands.executeCommand<{ state: ExplorerState; rendered: Rendered | undefined }>('quals.explorer._state');

async function shownResult(summary: vscode.Uri): Promise<{ state: ResultState; rendered: Rendered }> {
  let last = '';
  try {
    return await waitFor(
      `the explorer to render the result of ${summary.path}`,
      async () => {
        const { state, rendered } = await viewState();
        last = `state ${state.kind}${'summary' in state && state.summary ? ` of ${state.summary.uri}` : ''}, view rendered ${rendered?.kind ?? 'nothing'} ${JSON.stringify(rendered?.pairIds)}${state.kind === 'result' ? `, ${state.result.status} with ${state.result.pairs.length} pairs` : ''}`;
        return state.kind === 'result' && state.summary.uri === summary.toString() && rendered?.kind === 'result' && rendered.pairIds.length > 0
          ? { state, rendered }
          : undefined;
      },
      90_000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message} (last: ${last})`);
  }
}

export function registerExplorerTests(): void {
  suite('QUALS explorer view', function () {
    // The first check loads the model and scores on a busy machine.
    this.timeout(150_000);
    const summaryUri = () => workspaceUri('news/fury.summary.md');

    suiteSetup(async () => {
      await api();
      await vscode.commands.executeCommand('quals.explorer.focus');
    });

    test('the view opens in its QUALS container and shows the pairs of the fixture, worst first', async () => {
      await open('news/fury.summary.md');
      await vscode.commands.executeCommand('quals.explorer.focus');
      const { state, rendered } = await shownResult(summaryUri());
      const scores = new Map(state.result.pairs.map((p) => [p.id, p.score]));
      assert.deepEqual(rendered.pairIds, [...scores.keys()].sort((a, b) => scores.get(a)! - scores.get(b)!), 'rows are the result pairs, worst first');
      assert.equal(rendered.selectedPairId, rendered.pairIds[0], 'the worst pair is selected');
      assert.equal(state.source.uri, workspaceUri('news/fury.md').toString());
      const worst = state.result.pairs.find((p) => p.id === rendered.pairIds[0])!;
      assert.equal(worst.answer, 'Paris', 'the unsupported answer is at the top');
    });

    test('clicking a pair selects its answer in the summary editor', async () => {
      const doc = await open('news/fury.summary.md');
      const { state, rendered } = await shownResult(doc.uri);
      const pair = state.result.pairs.find((p) => p.id === rendered.pairIds[0])!;
      const editor = await vscode.window.showTextDocument(doc);
      editor.selection = new vscode.Selection(0, 0, 0, 0);
      await vscode.commands.executeCommand('quals.explorer._fromView', { type: 'revealPair', summaryUri: doc.uri.toString(), pairId: pair.id });
      const selected = await waitFor('the answer to be selected', () => {
        const e = vscode.window.visibleTextEditors.find((x) => x.document.uri.toString() === doc.uri.toString());
        return e && !e.selection.isEmpty ? e.document.getText(e.selection) : undefined;
      });
      assert.equal(selected, pair.answer);
    });

    test('"Show in source" selects the evidence in the source and the view stays on the summary', async () => {
      const doc = await open('news/fury.summary.md');
      const { state } = await shownResult(doc.uri);
      const pair = state.result.pairs.find((p) => p.sourceAnswer?.span);
      assert.ok(pair, 'some pair has evidence in the source');
      await vscode.commands.executeCommand('quals.explorer._fromView', { type: 'showInSource', summaryUri: doc.uri.toString(), pairId: pair.id });
      const source = workspaceUri('news/fury.md').toString();
      const text = await waitFor('the source editor with the evidence selected', () => {
        const e = vscode.window.visibleTextEditors.find((x) => x.document.uri.toString() === source);
        return e && !e.selection.isEmpty ? e.document.getText(e.selection) : undefined;
      });
      assert.equal(text, pair.sourceAnswer!.text);
      await vscode.window.showTextDocument(vscode.window.visibleTextEditors.find((x) => x.document.uri.toString() === source)!.document);
      assert.equal((await viewState()).state.kind, 'result');
      assert.equal(((await viewState()).state as ResultState).summary.uri, doc.uri.toString(), 'opening the source keeps the summary in view');
    });

    test('the hover link opens the explorer on that pair', async () => {
      const doc = await open('news/fury.summary.md');
      const { state, rendered } = await shownResult(doc.uri);
      const other = rendered.pairIds[rendered.pairIds.length - 1]!;
      await vscode.commands.executeCommand('quals.explorer.showPair', { uri: doc.uri.toString(), pairId: other });
      await waitFor(`pair ${other} to be selected in the view`, async () => (await viewState()).rendered?.selectedPairId === other);
      assert.ok(state.result.pairs.some((p) => p.id === other));
    });

    test('a summary without a source shows the pairing state', async () => {
      const lonely = await open('notes/lonely.md');
      await vscode.commands.executeCommand('quals.scoreSummary', lonely.uri);
      await waitFor('the not-paired state', async () => {
        const { state, rendered } = await viewState();
        return state.kind === 'not-paired' && state.summary.uri === lonely.uri.toString() && rendered?.kind === 'not-paired';
      }, 60_000);
    });

    test('"Save report..." writes a standalone HTML report and "Copy as JSON" copies the result', async () => {
      const doc = await open('news/fury.summary.md');
      const { state } = await shownResult(doc.uri);
      const target = workspaceUri('fury.quals.html');
      const saved = await vscode.commands.executeCommand<vscode.Uri | undefined>('quals.explorer._saveReportTo', target);
      assert.equal(saved?.toString(), target.toString());
      const html = readFileSync(target.fsPath, 'utf8');
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
      assert.match(html, /<mark class="flagged" title="[^"]*">Paris<\/mark>/);
      assert.doesNotMatch(html, /<script/i);
      assert.equal(await vscode.commands.executeCommand('quals.explorer.copyJson'), true);
      const copied = JSON.parse(await vscode.env.clipboard.readText());
      assert.deepEqual(copied.pairs.map((p: { id: string }) => p.id), state.result.pairs.map((p) => p.id));
    });
  });
}
