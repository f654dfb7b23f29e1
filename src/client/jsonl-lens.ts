/**
 * JSONL datasets: a CodeLens above each checked line with its score and count of findings; the
 * lens opens the line's worst QA pair in the explorer.
 */
import * as vscode from 'vscode';
import { Commands, isFindingDiagnostic, type ShowPairArgs } from '../protocol';
import { formatScore } from '../scoring/localise';
import type { Ctx } from './context';

export function registerJsonlLenses(ctx: Ctx): void {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses(doc) {
      const uri = doc.uri.toString();
      const diagnostics = vscode.languages.getDiagnostics(doc.uri).filter(isFindingDiagnostic);
      return ctx.latestResults(uri).flatMap((r) => {
        if (r.line === undefined || r.line >= doc.lineCount) return [];
        const line = r.line;
        const range = new vscode.Range(line, 0, line, 0);
        if (r.result.score === null) return [new vscode.CodeLens(range, { title: 'QUALS: no QA pairs', command: '' })];
        const n = diagnostics.filter((d) => d.range.start.line === line).length;
        const worst = [...r.result.pairs].sort((a, b) => a.score - b.score)[0];
        const title = `QUALS ${formatScore(r.result.score)} · ${n === 0 ? 'consistent' : `${n} unsupported`}`;
        const args: ShowPairArgs = { uri, pairId: worst?.id ?? '', line };
        return [new vscode.CodeLens(range, worst ? { title, command: Commands.explorerShowPair, arguments: [args] } : { title, command: '' })];
      });
    },
  };
  ctx.registerDisposable(changed);
  ctx.registerDisposable(vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.jsonl' }, provider));
  ctx.registerDisposable(ctx.onResult((r) => r.line !== undefined && changed.fire()));
  ctx.registerDisposable(vscode.languages.onDidChangeDiagnostics(() => changed.fire()));
}
