/**
 * The README's pictures, taken from this real VS Code window on a copy of the shipped examples/
 * (`npm run screenshots`, i.e. run.mjs --screenshots, writes them into docs/images/): the squiggle
 * with its hover on examples/boxing.summary.md, the explorer beside it at the default side bar
 * width, and "QUALS: Choose Model...". Each step also asserts what the picture must show, so a
 * retake never silently captures an empty window.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ChooseModelOutcome } from '../../../src/client/model-picker';
import type { ExplorerState, FromViewMessage } from '../../../src/shared/explorer-messages';
import { domWait } from './dom-query';
import { api, open, qualsDiagnostics, screenshot, waitFor } from './helpers';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerScreenshotTests(): void {
  suite('README screenshots on examples/', function () {
    this.timeout(180_000);

    test('squiggle-hover.png: the squiggle on "Joshua" with its hover card', async () => {
      const doc = await open('boxing.summary.md');
      const want = new vscode.Range(0, 0, 0, 'Joshua'.length);
      await waitFor('the diagnostic on "Joshua"', () => qualsDiagnostics(doc.uri).find((d) => d.range.isEqual(want)), 90_000);
      // One editor at full width, as a user reading a summary would see it.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('workbench.action.closeSidebar');
      const editor = await vscode.window.showTextDocument(doc);
      editor.selection = new vscode.Selection(want.start.translate(0, 2), want.start.translate(0, 2));
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('editor.action.showHover');
      await domWait('the hover card', '.monaco-hover .hover-contents', (m) => m.some((x) => /Joshua/.test(x.text)));
      await pause(800); // the hover widget animates in
      await screenshot('squiggle-hover');
      await vscode.commands.executeCommand('editor.action.hideHover');
    });

    test('explorer.png: the QA-pair explorer beside the summary, chart above the list', async () => {
      const doc = await open('boxing.summary.md');
      await vscode.commands.executeCommand('quals.explorer.focus');
      await vscode.window.showTextDocument(doc, { preserveFocus: false });
      await waitFor('the explorer to render the result', async () => {
        const { state, rendered } = await vscode.commands.executeCommand<{ state: ExplorerState; rendered?: Extract<FromViewMessage, { type: 'rendered' }> }>(
          'quals.explorer._state',
        );
        return state.kind === 'result' && state.summary.uri === doc.uri.toString() && rendered?.kind === 'result' && rendered.selectedPairId !== null;
      }, 60_000);
      await domWait('the chart', '.region-detail .token-row', (m) => m.length > 0);
      await vscode.commands.executeCommand('notifications.clearAll');
      await pause(800); // the webview paints after it is revealed
      await screenshot('explorer');
    });

    test('model-picker.png: "QUALS: Choose Model..." with the recommended models', async () => {
      const quals = await api();
      const running = Promise.resolve(vscode.commands.executeCommand<ChooseModelOutcome>('quals.chooseModel'));
      const shown = await waitFor('the model picker', () => quals.modelPicker());
      assert.equal(shown.title, 'QUALS: Choose Model');
      await domWait('the picker rows', '.quick-input-widget .monaco-list-row', (m) => m.length >= 3);
      await pause(500);
      await screenshot('model-picker');
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      const outcome = await running;
      assert.equal(outcome.state, 'cancelled', 'closing the picker changes nothing');
    });
  });
}
