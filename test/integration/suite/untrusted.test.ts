/**
 * Restricted mode: the harness opens the fixture with workspace trust ON and never trusts it
 * (`run.mjs --untrusted`). The fixture's workspace settings then point `quals.model` at a folder
 * that does not exist and pair summaries with nothing. The extension declares both settings
 * restricted, so VS Code must hide those workspace values and QUALS must keep working with the
 * user's settings: the squiggle on the garbled phrase still appears.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { api, modelReady, open, qualsDiagnostics, rangeOf, waitFor, workspaceUri } from './helpers';

export function registerUntrustedTests(): void {
  suite('QUALS in an untrusted workspace', () => {
    test('the workspace is in restricted mode and its restricted settings are hidden', async () => {
      assert.equal(vscode.workspace.isTrusted, false, 'the harness opened the workspace untrusted');
      const written = JSON.parse(readFileSync(workspaceUri('.vscode/settings.json').fsPath, 'utf8')) as Record<string, unknown>;
      assert.ok(written['quals.model'] && written['quals.pairs'], 'run.mjs --untrusted wrote the restricted workspace settings');
      const quals = vscode.workspace.getConfiguration('quals');
      assert.equal(quals.get('model'), process.env.QUALS_TEST_MODEL, 'the user-level model applies');
      assert.notDeepEqual(quals.get('pairs'), written['quals.pairs']);
    });

    test('QUALS still checks summaries with the user\'s model and pairing', async () => {
      const quals = await api();
      const doc = await open('news/fury.summary.md');
      await modelReady(quals);
      const want = rangeOf(doc, 'Paris');
      await waitFor('a QUALS diagnostic on "Paris"', () => qualsDiagnostics(doc.uri).find((d) => d.range.isEqual(want)), 30_000);
    });
  });
}
