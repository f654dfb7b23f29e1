import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLink, escapeMarkdown, hoverMarkdown, probabilityCell } from '../../src/server/hover';
import { pair } from './server-fixtures';

const hostile = '[run](command:workbench.action.terminal.new?%5B%5D) <img src=x onerror=alert(1)> **b** `c` | d';

/** Every markdown link target in the text, found the way a renderer would (unescaped `](`). */
function linkTargets(md: string): string[] {
  return [...md.matchAll(/(?<!\\)\]\((?<target>[^)\s]*)/g)].map((m) => m.groups!.target!);
}

test('escaping makes any text inert: no links, no html, no emphasis, no table breaks', () => {
  const e = escapeMarkdown(hostile);
  assert.deepEqual(linkTargets(e), []);
  assert.ok(!/(?<!\\)[<>*`|[\]()]/.test(e), e);
  assert.equal(escapeMarkdown('a\n\nb'), 'a b', 'no paragraph breaks from text');
  // Unescaping gives the original (flattened) text back: nothing is lost, only neutralised.
  assert.equal(e.replace(/\\(.)/g, '$1'), hostile);
});

test('the hover card shows question, both answers, score and token evidence, and exactly one command link', () => {
  const p = pair({
    id: 'q3',
    question: `Who won? ${hostile}`,
    answer: hostile,
    score: -2.5,
    tokens: [
      { text: ' Who', role: 'question', start: 0, end: 3, logpSummary: -0.1, logpSource: -0.2 },
      { text: ' Paris', role: 'answer', start: 0, end: 5, logpSummary: -0.05, logpSource: -4 },
      { text: '</s>', role: 'eos', start: null, end: null, logpSummary: -0.01, logpSource: -0.3 },
    ],
    sourceAnswer: { text: `Dusseldorf ${hostile}`, meanLogp: -0.3, span: null, agrees: false },
  });
  const md = hoverMarkdown(p, { uri: 'file:///w/a.summary.md', sourceLabel: 'a.md', line: 4 });
  const targets = linkTargets(md);
  assert.equal(targets.length, 1, md);
  const [target] = targets;
  assert.ok(target!.startsWith('command:quals.explorer.showPair?'));
  const args = JSON.parse(decodeURIComponent(target!.slice(target!.indexOf('?') + 1)));
  assert.deepEqual(args, [{ uri: 'file:///w/a.summary.md', pairId: 'q3', line: 4 }]);
  assert.match(md, /^\*\*QUALS \\-2\\\.50\*\* · Who won\\\? /);
  assert.match(md, /\nSummary says "\\\[run\\\]/);
  assert.match(md, / · source says "Dusseldorf/);
  assert.match(md, /Largest drops, p\(summary\) → p\(source\): \*\*Paris\*\* 0\.95 → 0\.02 · Who 0\.90 → 0\.82/);
  assert.ok(!md.includes('</s>'), 'separator and EOS tokens are not listed');
  assert.equal(md.split('\n').length, 4, "four short lines: the problem's Quick Fix stays in view");
});

test('probability cells: bar glyph grows with p', () => {
  assert.equal(probabilityCell(0), '█ 1.00');
  assert.equal(probabilityCell(Math.log(0.5)), '▅ 0.50');
  assert.equal(probabilityCell(-20), '▁ 0.00');
});

test('command link arguments cannot break out of the URL', () => {
  const args = { uri: "file:///a) [x](command:evil 'q' *~!", pairId: 'q1' };
  const link = commandLink('Open', 'quals.explorer.showPair', args);
  const targets = linkTargets(link);
  assert.equal(targets.length, 1);
  assert.ok(link.endsWith(`${targets[0]})`), 'the link target runs to the final parenthesis');
  assert.deepEqual(JSON.parse(decodeURIComponent(targets[0]!.split('?')[1]!)), [args]);
});
