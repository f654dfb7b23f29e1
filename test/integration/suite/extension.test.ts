/**
 * The QUALS extension in a real VS Code, scored with the trained toy model (models/tiny-qagen).
 * Fixture (test/integration/fixture, copied fresh per run): news/fury.summary.md says "Paris"
 * where news/fury.md says "Dusseldorf"; the other summaries agree with their sources.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ScoreResponse } from '../../../src/protocol';
import { api, modelReady, open, qualsDiagnostics, rangeOf, serverProcesses, waitFor, workspaceUri } from './helpers';

const GARBLED = 'Paris';
const SOURCE_SAYS = 'Dusseldorf';

async function flaggedOn(doc: vscode.TextDocument, text: string, timeoutMs = 30_000): Promise<vscode.Diagnostic> {
  const want = rangeOf(doc, text);
  return waitFor(`a QUALS diagnostic on "${text}" in ${doc.uri.path}`, () => qualsDiagnostics(doc.uri).find((d) => d.range.isEqual(want)), timeoutMs);
}

export function registerExtensionTests(): void {
  suite('QUALS in VS Code', () => {
    suiteSetup(async () => {
      await api();
    });

    test('with "quals.enabled": false a paired summary starts no server', async function () {
      const quals = await api();
      if (quals.serverStarted()) return this.skip();
      const config = vscode.workspace.getConfiguration('quals');
      // A pair of its own: with its source deleted before QUALS is turned back on, nothing asks for the server.
      const summary = workspaceUri('notes/off.summary.md');
      const source = workspaceUri('notes/off.md');
      writeFileSync(source.fsPath, 'Tyson Fury beat Wladimir Klitschko in Dusseldorf.\n');
      writeFileSync(summary.fsPath, 'Fury beat Klitschko in Dusseldorf.\n');
      // The workspace's settings: a user-settings write from code-server's remote extension host
      // hides the harness's local "quals.model" from it until the model is written again.
      await config.update('enabled', false, vscode.ConfigurationTarget.Workspace);
      try {
        await open('notes/off.summary.md');
        await new Promise((r) => setTimeout(r, 1500)); // the detection runs on open; give it time to (wrongly) start one
        assert.equal(quals.serverStarted(), false, 'a paired summary started the server although QUALS is off');
        assert.deepEqual(serverProcesses(), [], 'no server process while QUALS is off');
        rmSync(source.fsPath);
        await config.update('enabled', undefined, vscode.ConfigurationTarget.Workspace);
        await new Promise((r) => setTimeout(r, 1500)); // turning QUALS on runs the detection again
        assert.equal(quals.serverStarted(), false, 'a summary whose source was deleted started the server');
      } finally {
        rmSync(source.fsPath, { force: true });
        await config.update('enabled', undefined, vscode.ConfigurationTarget.Workspace);
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
        rmSync(summary.fsPath, { force: true });
      }
    });

    test('the server starts in its own process only once a summary is opened, and loads the model', async function () {
      const quals = await api();
      if (quals.serverStarted()) {
        console.log('skipped the ordinary-markdown half: an earlier test started the server');
      } else {
        // An ordinary markdown file activates the extension but starts no process.
        await open('notes/lonely.md');
        await new Promise((r) => setTimeout(r, 1500)); // the detection runs on open; give it time to (wrongly) start one
        assert.equal(quals.serverStarted(), false, 'notes/lonely.md started the server');
        assert.deepEqual(serverProcesses(), [], 'no server process for an ordinary markdown file');
        assert.equal(await quals.serverInfo(), undefined);
        assert.equal(quals.statusBar(), undefined, 'no "server stopped" in the status bar either');
      }
      const doc = await open('news/fury.summary.md');
      const [pid] = await waitFor('a server process after opening a paired summary', () => serverProcesses().length > 0 && serverProcesses());
      const info = await waitFor('server info', () => quals.serverInfo());
      assert.equal(info.pid, pid, 'the server is the extension host\'s child process');
      assert.notEqual(info.pid, process.pid);
      // The server answers before its first check has read the settings: wait for that check.
      await waitFor('the first check', () => ['done', 'error'].includes(quals.documentStatus(doc.uri.toString())?.state ?? ''), 60_000);
      await modelReady(quals);
    });

    test('diagnostics appear on the unsupported phrase after open', async () => {
      const doc = await open('news/fury.summary.md');
      const d = await flaggedOn(doc, GARBLED);
      assert.match(d.message, /^Not supported by source: "Paris"/);
      assert.match(d.message, /\(QUALS -?\d+\.\d\d(; \d+ QA pairs)?\)$/);
      assert.ok(typeof d.code === 'string' && /^q\d+$/.test(d.code), `code is the pair id, got ${String(d.code)}`);
      const related = d.relatedInformation?.[0];
      assert.ok(related, 'related information points into the source');
      assert.equal(related.location.uri.toString(), workspaceUri('news/fury.md').toString());
    });

    test('a hover on the flagged span shows the QA pair, escaped, with the explorer link', async () => {
      const doc = await open('news/fury.summary.md');
      const range = (await flaggedOn(doc, GARBLED)).range;
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, range.start.translate(0, 1));
      const md = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
      assert.match(md, /^\*\*QUALS \\?-?\d+\\?\.\d\d\*\* · \S/m);
      assert.match(md, /^Summary says "Paris" · source (says|agrees|gives|not)/m);
      assert.match(md, /^Largest drops, p\(summary\) → p\(source\): \S/m);
      assert.match(md, /\(command:quals\.explorer\.showPair\?/);
    });

    test('"Score Summary" runs and reports the score', async () => {
      const doc = await open('news/fury.summary.md');
      const r = await vscode.commands.executeCommand<ScoreResponse>('quals.scoreSummary', doc.uri);
      assert.equal(r.state, 'done', r.message);
      assert.equal(typeof r.score, 'number');
      assert.ok((r.flagged ?? 0) >= 1, 'the garbled phrase is counted');
      const quals = await api();
      assert.ok(quals.shownMessages.some((m) => /^QUALS score -?\d+\.\d\d: \d+ of \d+ QA pairs not supported/.test(m.message)));
    });

    test('the quick fix replaces the phrase with the source answer', async () => {
      const doc = await open('news/fury.summary.md');
      const d = await flaggedOn(doc, GARBLED);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
      const titles = actions.map((a) => a.title);
      assert.ok(titles.includes('Ignore this finding') && titles.includes('Disable QUALS for this file') && titles.includes('Re-check with QUALS'), titles.join(', '));
      const replace = actions.find((a) => a.title === `Replace with source answer '${SOURCE_SAYS}'`);
      assert.ok(replace?.edit, `no replace action among: ${titles.join(', ')}`);
      assert.ok(await vscode.workspace.applyEdit(replace.edit));
      assert.ok(doc.getText().includes(`in ${SOURCE_SAYS} on Saturday`));
      assert.ok(!doc.getText().includes(GARBLED));
      await doc.save();
      await waitFor('the finding to go away after save', () => !qualsDiagnostics(doc.uri).some((x) => doc.getText(x.range) === SOURCE_SAYS));
    });

    test('diagnostics appear after save when an edit introduces an unsupported phrase', async () => {
      const doc = await open('news/fury.summary.md');
      const at = rangeOf(doc, SOURCE_SAYS);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, at, GARBLED);
      assert.ok(await vscode.workspace.applyEdit(edit));
      await doc.save();
      await flaggedOn(doc, GARBLED);
    });

    test('"Ignore this finding" hides it and is listed for undo', async () => {
      const doc = await open('news/fury.summary.md');
      const d = await flaggedOn(doc, GARBLED);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
      const ignore = actions.find((a) => a.title === 'Ignore this finding');
      assert.ok(ignore?.command);
      await vscode.commands.executeCommand(ignore.command.command, ...(ignore.command.arguments ?? []));
      await waitFor('the ignored finding to disappear', () => !qualsDiagnostics(doc.uri).some((x) => x.range.isEqual(d.range)));
      // Shareable: kept in the folder's settings (.vscode/settings.json), relative to the folder.
      const shared = vscode.workspace.getConfiguration('quals', doc.uri).inspect<{ file: string; answer: string }[]>('ignoredFindings')?.workspaceFolderValue ?? [];
      assert.ok(shared.some((f) => f.file === 'news/fury.summary.md' && f.answer === GARBLED), JSON.stringify(shared));
      const quals = await api();
      assert.ok(quals.shownMessages.some((m) => m.message.includes('ignored') && m.actions.includes('Undo')));
    });

    test('the directive pairs a summary with its source', async () => {
      const doc = await open('notes/brief.md');
      await flaggedOn(doc, GARBLED);
    });

    test('JSONL datasets: squiggles land on the summary text inside the line', async () => {
      const doc = await open('data/xsum.jsonl');
      const line0 = doc.lineAt(0).text;
      const summaryAt = line0.indexOf('"summary":"') + '"summary":"'.length;
      const want = new vscode.Range(0, line0.indexOf(GARBLED, summaryAt), 0, line0.indexOf(GARBLED, summaryAt) + GARBLED.length);
      await waitFor('a diagnostic on the JSONL summary', () => qualsDiagnostics(doc.uri).find((d) => d.range.isEqual(want)), 60_000);
      assert.ok(!qualsDiagnostics(doc.uri).some((d) => d.range.start.line === 1), 'the consistent line is not flagged');
    });

    test('an unpaired file is explained, not guessed', async () => {
      const doc = await open('notes/lonely.md');
      const r = await vscode.commands.executeCommand<ScoreResponse>('quals.scoreSummary', doc.uri);
      assert.equal(r.state, 'unpaired');
      assert.match(r.message ?? '', /quals-source/);
      assert.equal(qualsDiagnostics(doc.uri).length, 0);
    });

    test('a source deleted under an open summary is reported in the diagnostics', async () => {
      const doc = await open('news/joshua.summary.md');
      const quals = await api();
      await waitFor('the first check', () => ['done', 'error'].includes(quals.documentStatus(doc.uri.toString())?.state ?? ''), 60_000);
      rmSync(workspaceUri('news/joshua.md').fsPath);
      const d = await waitFor('the missing-source diagnostic', () => qualsDiagnostics(doc.uri).find((x) => x.code === 'source-missing'));
      assert.match(d.message, /no longer exists/);
    });

    test('the server restarts after being killed', async () => {
      const quals = await api();
      const before = await waitFor('server info', () => quals.serverInfo());
      process.kill(before.pid, 'SIGKILL');
      const after = await waitFor('a new server process', async () => {
        const info = await quals.serverInfo().catch(() => undefined);
        return info && info.pid !== before.pid ? info : undefined;
      }, 30_000);
      assert.notEqual(after.pid, before.pid);
      assert.ok(quals.shownMessages.some((m) => /stopped unexpectedly; restarting/.test(m.message)));
      const doc = await open('news/usyk.summary.md');
      const r = await vscode.commands.executeCommand<ScoreResponse>('quals.scoreSummary', doc.uri);
      assert.equal(r.state, 'done', r.message);
    });

    test('a missing model gives one actionable notification', async () => {
      const quals = await api();
      const config = vscode.workspace.getConfiguration('quals');
      const good = config.get<string>('model');
      const missing = `${good}-does-not-exist`;
      await config.update('model', missing, vscode.ConfigurationTarget.Global);
      try {
        const doc = await open('news/usyk.summary.md');
        const r = await vscode.commands.executeCommand<ScoreResponse>('quals.scoreSummary', doc.uri);
        assert.equal(r.state, 'error');
        const shown = await waitFor('the model notification', () => {
          const found = quals.shownMessages.filter((m) => m.message.includes(missing) && m.actions.includes('Choose Folder...'));
          return found.length > 0 && found;
        });
        assert.equal(shown.length, 1, 'one notification, not one per check');
        assert.deepEqual(shown[0]!.actions, ['Choose Folder...', 'Open Settings']);
      } finally {
        await config.update('model', good, vscode.ConfigurationTarget.Global);
      }
    });
  });
}
