/**
 * Quick fixes for QUALS diagnostics. Text changes only happen through the edit of an action the
 * user picks; every other action is one of the extension's own commands with JSON arguments.
 */
import { CodeActionKind, type CodeAction, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { Commands, type IgnoredFinding } from '../protocol';
import { directiveInsertOffset, findIgnoreDirectives, ignoreDirectiveText, isJsonlPath } from '../scoring/pairing';
import { DIAGNOSTIC_SOURCE, type FindingData } from './diagnostics';

function findingData(d: Diagnostic): FindingData | null {
  const data = d.data as Partial<FindingData> | undefined;
  if (d.source !== DIAGNOSTIC_SOURCE || !data || typeof data.question !== 'string' || typeof data.answer !== 'string') return null;
  return data as FindingData;
}

/** The quick fixes for the QUALS diagnostics among `diagnostics` (others are ignored). */
export function codeActionsFor(doc: TextDocument, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  const ours = diagnostics.flatMap((d) => {
    const data = findingData(d);
    return data ? [{ d, data }] : [];
  });
  for (const { d, data } of ours) {
    // The edit replaces the whole answer, and only while it is still what was scored: never rewrite text that moved.
    const target = data.answerRange ?? d.range;
    if (data.sourceAnswer !== null && doc.getText(target) === data.answer) {
      actions.push({
        title: `Replace with source answer '${data.sourceAnswer}'`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [doc.uri]: [{ range: target, newText: data.sourceAnswer }] } },
      });
    }
    // A finding merged from several pairs is ignored as a whole: one argument per pair, the worst first.
    const pairs = Array.isArray(data.pairs) && data.pairs.length > 0 ? data.pairs : [data];
    const findings: IgnoredFinding[] = pairs.map((p) => ({ uri: doc.uri, question: p.question, answer: p.answer }));
    actions.push({
      title: 'Ignore this finding',
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      command: { title: 'Ignore this finding', command: Commands.ignoreFinding, arguments: findings },
    });
    const inline = inlineIgnore(doc, data.word ?? data.answer, d);
    if (inline) actions.push(inline);
  }
  if (ours.length > 0) {
    const all = ours.map((o) => o.d);
    actions.push(
      {
        title: 'Disable QUALS for this file',
        kind: CodeActionKind.QuickFix,
        diagnostics: all,
        command: { title: 'Disable QUALS for this file', command: Commands.disableForFile, arguments: [doc.uri] },
      },
      {
        title: 'Re-check with QUALS',
        kind: CodeActionKind.QuickFix,
        diagnostics: all,
        command: { title: 'Re-check with QUALS', command: Commands.recheck, arguments: [doc.uri] },
      },
    );
  }
  return actions;
}

/**
 * "Ignore 'X' in this file (inline comment)": adds the word to the summary's first
 * `<!-- quals-ignore: ... -->` comment, or writes one at the top (after front matter), then
 * re-checks so the squiggle goes before the file is saved. Not for JSONL datasets, whose lines
 * must stay JSON.
 */
function inlineIgnore(doc: TextDocument, word: string, d: Diagnostic): CodeAction | null {
  const directive = ignoreDirectiveText(word);
  if (!directive || isJsonlPath(doc.uri)) return null;
  const text = doc.getText();
  const existing = findIgnoreDirectives(text)[0];
  const w = word.replace(/\s+/g, ' ').trim();
  const edit = existing
    ? { range: at(doc, existing.insertAt), newText: existing.words.length > 0 ? `, ${w}` : ` ${w}` }
    : { range: at(doc, directiveInsertOffset(text)), newText: `${directive}${text.includes('\r\n') ? '\r\n' : '\n'}` };
  const title = `Ignore '${w}' in this file (inline comment)`;
  return {
    title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    edit: { changes: { [doc.uri]: [edit] } },
    command: { title, command: Commands.recheck, arguments: [doc.uri] },
  };
}

function at(doc: TextDocument, offset: number) {
  const p = doc.positionAt(offset);
  return { start: p, end: p };
}
