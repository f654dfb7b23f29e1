/**
 * Token-level localisation in a real VS Code, on copies of the shipped examples: the squiggle sits
 * on the word the source does not support, whether it is the answer or a word of the question,
 * and pairs blaming the same word are one diagnostic.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, modelReady, open, qualsDiagnostics, waitFor } from './helpers';

/** The range of `word` inside the "summary" value of a JSONL line. */
function jsonlSummaryWord(doc: vscode.TextDocument, line: number, word: string): vscode.Range {
  const text = doc.lineAt(line).text;
  const at = text.indexOf(word, text.indexOf('"summary":"'));
  return new vscode.Range(line, at, line, at + word.length);
}

export function registerLocalisationTests(): void {
  suite('QUALS localisation', () => {
    suiteSetup(async () => {
      await open('news/boxing.summary.md'); // the server loads the model for the first check
      await modelReady(await api());
    });

    test('examples/boxing: one finding on "Joshua", never a contradiction of its own evidence', async () => {
      const doc = await open('news/boxing.summary.md');
      const want = new vscode.Range(0, 0, 0, 'Joshua'.length);
      const d = await waitFor('a diagnostic on "Joshua"', () => qualsDiagnostics(doc.uri).find((x) => x.range.isEqual(want)));
      assert.equal(qualsDiagnostics(doc.uri).filter((x) => x.range.intersection(want)).length, 1, 'pairs blaming "Joshua" are merged');
      assert.match(d.message, /^Not supported by source: "Joshua"/);
      assert.match(d.message, /; 2 QA pairs\)$/);
      assert.ok(!qualsDiagnostics(doc.uri).some((x) => /Dusseldorf/.test(doc.getText(x.range))), 'the answer the source agrees with is not flagged');
    });

    test('examples/news.jsonl: the swapped, invented and changed words are the ones underlined', async () => {
      const doc = await open('data/news.jsonl');
      const expected: [number, string][] = [[1, 'Everton'], [3, 'Chelsea'], [5, 'Lagos'], [7, 'Lyon'], [10, 'December'], [15, 'Boston']];
      for (const [line, word] of expected) {
        const want = jsonlSummaryWord(doc, line, word);
        await waitFor(`line ${line + 1}: a diagnostic on "${word}"`, () => qualsDiagnostics(doc.uri).find((x) => x.range.isEqual(want)), 90_000);
      }
      const lyon = qualsDiagnostics(doc.uri).find((x) => x.range.isEqual(jsonlSummaryWord(doc, 7, 'Lyon')))!;
      assert.match(lyon.message, /^Not supported by source: "Lyon" in "Who visited Lyon\?"/);
      for (const faithful of [0, 4, 8, 12]) assert.ok(!qualsDiagnostics(doc.uri).some((x) => x.range.start.line === faithful), `line ${faithful + 1} is faithful`);
    });
  });
}
