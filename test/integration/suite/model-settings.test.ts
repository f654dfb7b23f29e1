/**
 * Where the "Choose" flows save `quals.model` and where "Open Settings" takes the user, in
 * code-server, which is a remote window: a model folder is a path on the machine the server runs
 * on, so the value goes to that machine's settings (`<user-data>/Machine/settings.json`; the user
 * settings `User/settings.json` in a local window) and "Open Settings" opens the Settings editor's
 * Remote tab filtered to the setting, where "Quals: Model" is shown. The harness types into VS
 * Code's own folder dialog and reads the Settings editor's text (run.mjs `pageRequest`).
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { openModelSettings } from '../../../src/client/model-settings';
import { chooseModelFolder } from '../../../src/client/notifier';
import { api, modelReady, page, waitFor } from './helpers';

function settingsFile(userData: string, kind: 'User' | 'Machine'): Record<string, unknown> {
  const file = join(userData, kind, 'settings.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8') || '{}') as Record<string, unknown>) : {};
}

export function registerModelSettingsTests(): void {
  suite('QUALS: where the model setting is saved and shown', () => {
    test('"Choose Folder..." saves quals.model in the settings of the machine the server runs on', async function () {
      if (!process.env.QUALS_TEST_SIGNAL_DIR) return this.skip(); // needs the harness to answer the folder dialog
      const quals = await api();
      // <user-data>/User/globalStorage/<extension id>
      const userData = resolve(quals.host.extensionContext.globalStorageUri.fsPath, '../../..');
      const model = process.env.QUALS_TEST_MODEL!;
      assert.ok(vscode.env.remoteName, 'code-server is a remote window');
      const config = () => vscode.workspace.getConfiguration('quals');
      // Earlier tests saved the model with ConfigurationTarget.Global, i.e. here: start without it.
      const remoteBefore = settingsFile(userData, 'Machine')['quals.model'];
      await config().update('model', undefined, vscode.ConfigurationTarget.Global);
      await waitFor('no remote quals.model', () => settingsFile(userData, 'Machine')['quals.model'] === undefined, 10_000);
      const localBefore = settingsFile(userData, 'User')['quals.model'];
      assert.equal(localBefore, model, 'the harness sets the model in the local user settings');
      try {
        const chosen = chooseModelFolder();
        // VS Code's own dialog: once it shows, type the folder, wait until the dialog has listed
        // its parent (it resolves typed paths as it goes), then its button takes the typed folder.
        // On a busy machine the dialog can take the focus after it is drawn, and what was typed
        // before is lost: the typing is repeated until the listing follows it.
        const name = model.split('/').pop()!;
        let dialog: string[] | undefined;
        const shown = async () => (dialog = (await page('text .quick-input-widget'))?.text);
        await waitFor('the folder dialog', async () => (await shown())?.some((t) => t.includes('Use as QUALS Model')), 20_000);
        for (let attempt = 1; ; attempt++) {
          await new Promise((r) => setTimeout(r, 500));
          const typed = await page(`type ${model}`);
          assert.ok(typed?.ok, typed?.error);
          const listed = await waitFor('the dialog to list the typed folder', async () => (await shown())?.some((t) => t.split('\n').includes(name)), 5_000).then(
            () => true,
            () => false,
          );
          if (listed) break;
          if (attempt === 3) assert.fail(`the dialog did not list ${name} after typing ${model} ${attempt} times; it shows ${JSON.stringify(dialog)}`);
        }
        const clicked = await page('click .quick-input-widget >> text="Use as QUALS Model"');
        assert.ok(clicked?.ok, clicked?.error);
        assert.equal(await chosen, model);
        await waitFor('Machine/settings.json to hold quals.model', () => settingsFile(userData, 'Machine')['quals.model'] === model, 10_000);
        assert.equal(settingsFile(userData, 'User')['quals.model'], localBefore, 'the local user settings are left alone');
        assert.equal(config().get('model'), model);
        const inspected = config().inspect('model');
        assert.equal(inspected?.workspaceValue, undefined);
        assert.equal(inspected?.workspaceFolderValue, undefined);
      } finally {
        await config().update('model', remoteBefore, vscode.ConfigurationTarget.Global);
        await waitFor('the remote value to be restored', () => settingsFile(userData, 'Machine')['quals.model'] === remoteBefore, 10_000);
        if (quals.serverStarted()) await modelReady(quals).catch(() => undefined);
      }
    });

    test('"Open Settings" opens the tab that shows "Quals: Model"', async function () {
      if (!process.env.QUALS_TEST_SIGNAL_DIR) return this.skip();
      await openModelSettings();
      const shown = await waitFor('the Settings editor on quals.model', async () => {
        const r = await page('text .settings-editor');
        return r?.ok && r.text?.some((t) => /question-and-answer generation model/.test(t)) && r.text;
      }, 20_000);
      const text = shown.join('\n');
      assert.match(text, /^Quals: Model$/m, 'the setting itself is listed, not only its group');
      const tab = await page('text .settings-editor .settings-tabs-widget .action-label.checked');
      const expected = vscode.env.remoteName ? /^Remote/ : /^User$/;
      assert.ok(tab?.text?.length === 1 && expected.test(tab.text[0]!), `the selected tab: ${JSON.stringify(tab?.text)}`);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });
  });
}
