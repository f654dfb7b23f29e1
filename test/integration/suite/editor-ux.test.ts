/**
 * What QUALS shows around the editor: the status bar verdict, context keys that keep menus and the
 * explorer quiet outside summaries, "Check All Summaries in Workspace", and re-checks after a file
 * is rewritten on disk.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { CheckAllTally } from '../../../src/client/check-all-logic';
import { api, modelReady, open, qualsDiagnostics, waitFor, workspaceUri } from './helpers';

export function registerEditorUxTests(): void {
  suite('QUALS around the editor', () => {
    suiteSetup(async () => {
      await open('news/boxing.summary.md'); // the server loads the model for the first check
      await modelReady(await api());
    });

    test('the status bar says how many findings a summary has, or that it is consistent', async () => {
      const quals = await api();
      await open('news/boxing.summary.md');
      await waitFor('"QUALS: 1 unsupported" in the status bar', () => /QUALS: 1 unsupported$/.test(quals.statusBar()?.text ?? ''));
      assert.equal(quals.contextKeys()['quals.activeIsChecked'], true);
      assert.equal(quals.contextKeys()['quals.activeHasResult'], true);
      await open('news/usyk.summary.md');
      await waitFor('"QUALS: consistent" in the status bar', () => /QUALS: consistent$/.test(quals.statusBar()?.text ?? ''));
    });

    test('an ordinary markdown file gets no QUALS status and no QUALS title-bar button', async () => {
      const quals = await api();
      await open('notes/lonely.md');
      await waitFor('the status bar item to hide', () => quals.statusBar() === undefined);
      await waitFor('quals.activeIsChecked to be false', () => quals.contextKeys()['quals.activeIsChecked'] === false);
      assert.equal(quals.contextKeys()['quals.seenChecked'], true, 'the explorer stays once a summary was seen');
    });

    test('"Check All Summaries in Workspace" checks every paired summary and dataset, findings in Problems', async () => {
      const t = await vscode.commands.executeCommand<CheckAllTally>('quals.checkAllSummaries');
      assert.ok(t, 'the command returns its tally');
      // news/{fury,joshua,usyk,boxing}.summary.md, notes/brief.md, data/{xsum,news}.jsonl; notes/lonely.md and the sources
      // are not summaries, and news/joshua.summary.md has none once an earlier test deleted news/joshua.md.
      const expected = existsSync(workspaceUri('news/joshua.md').fsPath) ? 7 : 6;
      assert.equal(t.checked, expected, JSON.stringify(t));
      assert.ok(t.findings >= 3 && t.filesWithFindings >= 3, JSON.stringify(t));
      assert.equal(t.failed, 0);
      assert.ok(qualsDiagnostics(workspaceUri('data/news.jsonl')).length >= 6);
      const quals = await api();
      const done = quals.shownMessages.find((m) => m.message.startsWith('QUALS checked the workspace:'));
      assert.equal(done?.message, `QUALS checked the workspace: ${expected} summaries, ${t.findings} finding(s) in ${t.filesWithFindings} file(s).`);
      assert.ok(done.actions.includes('Show Problems'));
    });

    test('JSONL datasets wrap, and each checked line has a CodeLens with its score and findings', async () => {
      const doc = await open('data/news.jsonl');
      assert.equal(doc.languageId, 'jsonl');
      assert.equal(vscode.workspace.getConfiguration('editor', { languageId: 'jsonl' }).get('wordWrap'), 'on');
      const lenses = await waitFor('lenses on all 16 lines', async () => {
        const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
        return l.filter((x) => x.command?.title.startsWith('QUALS')).length === 16 && l;
      }, 60_000);
      const title = (line: number) => lenses.find((l) => l.range.start.line === line)?.command?.title ?? '';
      assert.match(title(0), /^QUALS -?\d+\.\d\d · consistent$/);
      assert.match(title(1), /^QUALS -?\d+\.\d\d · 1 unsupported$/);
      assert.equal(lenses.find((l) => l.range.start.line === 1)?.command?.command, 'quals.explorer.showPair');
    });

    test('a summary rewritten on disk is re-checked (quals.checkOn: save)', async () => {
      const doc = await open('news/usyk.summary.md');
      await waitFor('usyk.summary.md checked', async () => (await api()).documentStatus(doc.uri.toString())?.state === 'done');
      assert.equal(qualsDiagnostics(doc.uri).length, 0);
      writeFileSync(doc.uri.fsPath, 'Usyk was born in Lyon in 1987. Chelsea signed Parker for 12 million.\n');
      const lyon = await waitFor('a finding on "Lyon" after the rewrite on disk', () => {
        const at = doc.getText().indexOf('Lyon');
        return at >= 0 && qualsDiagnostics(doc.uri).find((d) => d.range.start.character === at);
      }, 30_000);
      assert.match(lyon.message, /"Lyon"/);
    });

    test('"Ignore \'Lyon\' in this file (inline comment)" writes a quals-ignore comment that removes the squiggle', async () => {
      // usyk.summary.md as the previous test left it: "Usyk was born in Lyon ..." with a finding on "Lyon".
      const doc = await open('news/usyk.summary.md');
      const onLyon = () => qualsDiagnostics(doc.uri).find((d) => doc.getText(d.range) === 'Lyon');
      const lyon = await waitFor('the finding on "Lyon"', onLyon, 30_000);
      const others = qualsDiagnostics(doc.uri).filter((d) => d !== lyon).map((d) => doc.getText(d.range));
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, lyon.range, vscode.CodeActionKind.QuickFix.value);
      const titles = actions.map((a) => a.title);
      const ignore = actions.find((a) => a.title === "Ignore 'Lyon' in this file (inline comment)");
      assert.ok(ignore?.edit && ignore.command, titles.join(', '));
      assert.ok(titles.indexOf(ignore.title) === titles.indexOf('Ignore this finding') + 1, `next to the other ignore: ${titles.join(', ')}`);
      assert.ok(!doc.getText().includes('quals-ignore'), 'offering the fix changes nothing');
      // What picking it does: the edit, then its command (a re-check of the unsaved text).
      assert.ok(await vscode.workspace.applyEdit(ignore.edit));
      await vscode.commands.executeCommand(ignore.command.command, ...(ignore.command.arguments ?? []));
      assert.ok(doc.getText().startsWith('<!-- quals-ignore: Lyon -->\n'), doc.getText());
      await waitFor('the "Lyon" squiggle to go before saving', () => doc.isDirty && !onLyon(), 30_000);
      await doc.save();
      const quals = await api();
      await waitFor('the check after saving', () => quals.documentStatus(doc.uri.toString())?.state === 'done' && quals.documentStatus(doc.uri.toString())?.version === doc.version, 30_000);
      assert.equal(onLyon(), undefined, 'still hidden after the save');
      // The comment is not scored: the other findings stay on the same words, one line down.
      assert.deepEqual(qualsDiagnostics(doc.uri).map((d) => doc.getText(d.range)), others);
      assert.ok(qualsDiagnostics(doc.uri).every((d) => d.range.start.line >= 1));
    });
  });
}
