/**
 * `quals.modelVariant: int8` in a real VS Code: with a model folder that has the int8 files (the
 * toy model's int8 copy, models/tiny-qagen/int8-copy.ts, written into a temporary folder) a paired
 * summary gets its diagnostics and the language status names the variant where it describes the
 * model; with the toy itself (fp32 only) the user is told how to write the int8 files. The user's
 * model and variant are put back afterwards.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { writeInt8Copy } from '../../../models/tiny-qagen/int8-copy';
import { api, modelReady, open, qualsDiagnostics, rangeOf, waitFor } from './helpers';

const GARBLED = 'Paris';

export function registerModelVariantTests(): void {
  suite('QUALS: the int8 model variant', () => {
    const config = () => vscode.workspace.getConfiguration('quals');
    let tmp: string;
    let int8Model: string;
    let saved: { model: unknown; variant: unknown };

    suiteSetup(() => {
      tmp = mkdtempSync(join(tmpdir(), 'quals-int8-'));
      int8Model = join(tmp, 'tiny-qagen-int8');
      writeInt8Copy(process.env.QUALS_TEST_MODEL!, int8Model);
      saved = { model: config().inspect('model')?.globalValue, variant: config().inspect('modelVariant')?.globalValue };
    });

    suiteTeardown(async () => {
      await config().update('modelVariant', saved.variant, vscode.ConfigurationTarget.Global);
      await config().update('model', saved.model, vscode.ConfigurationTarget.Global);
      const quals = await api();
      if (quals.serverStarted()) await modelReady(quals).catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
    });

    /** The server's model status once it has loaded (or failed to load) `model`. */
    async function loaded(model: string) {
      const quals = await api();
      return waitFor(`the server to load ${model}`, async () => {
        const m = (await quals.serverInfo())?.model;
        return m?.model === model && (m.state === 'ready' || m.state === 'error') ? m : undefined;
      }, 60_000);
    }

    test('a folder with int8 files: diagnostics on the paired summary, and the status says int8', async () => {
      await config().update('modelVariant', 'int8', vscode.ConfigurationTarget.Global);
      await config().update('model', int8Model, vscode.ConfigurationTarget.Global);
      const doc = await open('news/fury.summary.md');
      if (!doc.getText().includes(GARBLED)) {
        // An earlier test may have taken the quick fix: put the unsupported phrase back.
        const edit = new vscode.WorkspaceEdit();
        edit.replace(doc.uri, rangeOf(doc, 'Dusseldorf'), GARBLED);
        assert.ok(await vscode.workspace.applyEdit(edit));
        await doc.save();
      }
      const quals = await api();
      const status = await loaded(int8Model);
      assert.equal(status.state, 'ready', status.message);
      assert.equal(status.variant, 'int8');
      const want = rangeOf(doc, GARBLED);
      const d = await waitFor('a diagnostic on "Paris" from the int8 model', () => qualsDiagnostics(doc.uri).find((x) => x.range.isEqual(want)), 60_000);
      assert.match(d.message, /^Not supported by source: "Paris"/);
      const shown = await waitFor('the language status to describe the int8 model', () => / · int8 · CPU/.test(quals.languageStatus().detail) && quals.languageStatus(), 10_000);
      assert.match(shown.detail, /tiny-qagen-int8 · int8 · CPU/);
    });

    test('a folder without int8 files: the error says how to write them or to use fp32', async () => {
      const toy = process.env.QUALS_TEST_MODEL!;
      const quals = await api();
      const before = quals.shownMessages.length;
      await config().update('model', toy, vscode.ConfigurationTarget.Global);
      await open('news/fury.summary.md');
      const status = await loaded(toy);
      assert.equal(status.state, 'error');
      assert.equal(status.code, 'missing-file');
      const shown = await waitFor('the error shown to the user', () => quals.shownMessages.slice(before).find((m) => m.severity === 'error' && m.message.includes(toy)), 10_000);
      assert.match(shown.message, /has no int8 variant: onnx\/encoder_model_int8\.onnx is missing/);
      assert.match(shown.message, /quals model import .* --variant int8/);
      assert.match(shown.message, /or set the variant to fp32/);
      assert.ok(shown.actions.includes('Open Settings'), shown.actions.join(', '));
    });
  });
}
