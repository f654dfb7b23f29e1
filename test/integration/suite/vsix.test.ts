/**
 * The packaged VSIX as a user gets it: run.mjs --vsix installed it with code-server's
 * --install-extension into a fresh extensions folder and opened a copy of examples/; the
 * development "extension" is an empty probe, so everything below runs the INSTALLED copy (its
 * bundles, its onnxruntime-node, its webview) with the toy model from the user settings.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import type { QualsApi } from '../../../src/client/api';
import type { ExplorerState, FromViewMessage } from '../../../src/shared/explorer-messages';
import { domWait } from './dom-query';
import { open, qualsDiagnostics, screenshot, waitFor } from './helpers';

export function registerVsixTests(): void {
  suite('the packaged VSIX, installed into a fresh code-server', function () {
    this.timeout(150_000);
    const ext = () => vscode.extensions.getExtension<QualsApi>('quals.quals-vscode');

    test('QUALS is the installed copy, with its runtime', () => {
      const e = ext();
      assert.ok(e, 'quals.quals-vscode is installed');
      const dir = process.env.QUALS_TEST_EXTENSIONS_DIR!;
      const rel = relative(dir, e.extensionPath);
      assert.ok(rel && !rel.startsWith('..') && !isAbsolute(rel), `${e.extensionPath} is under ${dir}`);
      assert.ok(existsSync(join(e.extensionPath, 'node_modules/onnxruntime-node/package.json')), 'onnxruntime-node shipped');
    });

    test('opening examples/boxing.summary.md activates it and puts the squiggle on "Joshua"', async () => {
      const doc = await open('boxing.summary.md');
      const quals = await waitFor('the extension to activate', () => (ext()?.isActive ? ext()!.exports : undefined), 30_000);
      // The first check loads the model: the squiggle needs the installed server AND its onnxruntime.
      const want = new vscode.Range(0, 0, 0, 'Joshua'.length);
      const d = await waitFor('the diagnostic on "Joshua"', () => qualsDiagnostics(doc.uri).find((x) => x.range.isEqual(want)), 90_000);
      const info = await quals.serverInfo();
      assert.equal(info?.model.state, 'ready');
      assert.equal(info?.model.model, process.env.QUALS_TEST_MODEL, 'the toy model from the user settings');
      assert.match(d.message, /^Not supported by source: "Joshua"/);
      // The squiggle itself, drawn by the editor (not just a diagnostic in the API).
      await domWait('the squiggle in the editor', '.view-overlays .squiggly-warning, .view-overlays .squiggly-error', (m) => m.length > 0);
      await screenshot('vsix-squiggle');
    });

    test('its explorer webview renders the result', async () => {
      const doc = await open('boxing.summary.md');
      await vscode.commands.executeCommand('quals.explorer.focus');
      await vscode.window.showTextDocument(doc);
      await waitFor('the explorer to render the result', async () => {
        const { state, rendered } = await vscode.commands.executeCommand<{ state: ExplorerState; rendered?: Extract<FromViewMessage, { type: 'rendered' }> }>(
          'quals.explorer._state',
        );
        return state.kind === 'result' && rendered?.kind === 'result' && rendered.pairIds.length > 0;
      }, 60_000);
      await domWait('the chart in the webview', '.region-detail .token-row', (m) => m.length > 0);
    });
  });
}
