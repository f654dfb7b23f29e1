/**
 * The QA-pair explorer view in a real VS Code on the fixture pair (news/fury.summary.md says
 * "Paris" where news/fury.md says "Dusseldorf"). The webview reports what it rendered
 * (`rendered` messages), so these tests see the real page's rows, not just the provider's state.
 * The suite runs in the extension host and cannot click inside the webview's iframe: pair clicks
 * are sent through `quals.explorer._fromView`, the same validated path the view's messages take.
 * What the page looks like (layout, buttons, computed colours) comes from the harness's page
 * queries (dom-query.ts), inside the webview's own frame.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ExplorerState, FromViewMessage } from '../../../src/shared/explorer-messages';
import { domWait, type DomMatch } from './dom-query';
import { api, open, waitFor, workspaceUri } from './helpers';
import { hueDistance } from '../../../webview/preview/colour';

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
        // The view exists only once a checked summary was seen (its `when` clause): focusing it
        // before that does nothing, so focus again until it has rendered.
        if (!rendered) await vscode.commands.executeCommand('quals.explorer.focus');
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

    // The page itself, through the harness (skipped under @vscode/test-electron, which has no page).
    test('in the real webview at the default side bar width: chart above the list, no title-bar action repeated, ⟨sep⟩ hidden', async function () {
      if (!process.env.QUALS_TEST_SIGNAL_DIR) return this.skip();
      await open('news/fury.summary.md');
      await vscode.commands.executeCommand('quals.explorer.focus');
      await shownResult(summaryUri());
      const one = (m: DomMatch[]) => (m.length === 1 ? m[0] : undefined);
      const chart = (await domWait('the chart', '.region-detail .chart', one))!;
      const list = (await domWait('the pair list', '.region-list .pair-list', one))!;
      assert.ok(chart.bottom <= list.top + 1, `chart (${chart.top}-${chart.bottom}) above the list (from ${list.top})`);
      assert.ok(chart.right - chart.left < 400, `the side bar is at its default width (${chart.right - chart.left}px)`);
      const buttons = (await domWait('the buttons', '.region-detail vscode-button, .region-toolbar vscode-button, .region-list vscode-button', (m) => m))!.map((b) => b.text);
      assert.deepEqual(buttons, ['Show in source'], 'Copy/Save are the view title actions only');
      const tokens = (await domWait('the chart rows', '.region-detail .token-text', (m) => m.length > 0 && m))!.map((t) => t.text);
      assert.ok(!tokens.some((t) => /⟨(sep|end)⟩/.test(t)), `no separator or end rows: ${tokens.join(' ')}`);
      const ticks = (await domWait('the axis', '.region-detail .axis-tick', (m) => m.length >= 3 && m))!.map((t) => t.text);
      assert.equal(ticks.at(-1), '0', `the axis ends at log p 0: ${ticks.join(' ')}`);
    });

    test('in High Contrast Light the two series differ in colour and in pattern', async function () {
      if (!process.env.QUALS_TEST_SIGNAL_DIR) return this.skip();
      const workbench = vscode.workspace.getConfiguration('workbench');
      const before = workbench.inspect<string>('colorTheme')?.globalValue;
      await open('news/fury.summary.md');
      await vscode.commands.executeCommand('quals.explorer.focus');
      await shownResult(summaryUri());
      await workbench.update('colorTheme', 'Default High Contrast Light', vscode.ConfigurationTarget.Global);
      try {
        const bar = (cls: string) =>
          domWait(`the ${cls} bars in High Contrast Light`, `body.vscode-high-contrast-light .region-detail .token-row .${cls}`, (m) => m[0]);
        const [summary, source] = [(await bar('bar-summary'))!, (await bar('bar-source'))!];
        // charts.blue and charts.orange are both blue in this theme: the hues must differ, not just the shades.
        const apart = hueDistance(summary.backgroundColor, source.backgroundColor);
        assert.ok(apart >= 45, `colours ${summary.backgroundColor} vs ${source.backgroundColor}: hues ${apart.toFixed(0)}° apart`);
        assert.equal(summary.backgroundImage, 'none', 'summary bars are solid');
        assert.match(source.backgroundImage, /repeating-linear-gradient/, 'source bars are hatched');
      } finally {
        await workbench.update('colorTheme', before, vscode.ConfigurationTarget.Global);
      }
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
