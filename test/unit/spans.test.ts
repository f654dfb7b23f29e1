import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineIndex, collapseWhitespace, findAnswerSpans, findOccurrences, isWholeWord, locateAnswer } from '../../src/scoring/spans';

describe('LineIndex', () => {
  it('counts UTF-16 characters and splits lines at \\n, \\r\\n and \\r', () => {
    const text = 'ab\r\ncd\nef\rgh';
    const idx = new LineIndex(text);
    assert.deepEqual(idx.position(0), { line: 0, character: 0 });
    assert.deepEqual(idx.position(2), { line: 0, character: 2 });
    assert.deepEqual(idx.position(4), { line: 1, character: 0 });
    assert.deepEqual(idx.position(8), { line: 2, character: 1 });
    assert.deepEqual(idx.position(11), { line: 3, character: 1 });
    assert.deepEqual(idx.position(99), { line: 3, character: 2 });
  });

  it('counts an emoji as two characters, as VS Code does', () => {
    const text = '😀 Fury won';
    const [span] = findAnswerSpans(text, 'Fury');
    assert.equal(span!.start, 3);
    assert.deepEqual(span!.range.start, { line: 0, character: 3 });
    assert.equal(text.slice(span!.start, span!.end), 'Fury');
  });
});

describe('answer spans', () => {
  it('matches case-insensitively and maps offsets back to the original text', () => {
    const spans = findAnswerSpans('The Fury beat KLITSCHKO.', 'klitschko');
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.start, 14);
    assert.equal(spans[0]!.end, 23);
  });

  it('keeps offsets right when lower-casing changes a string\'s length (İ -> i̇)', () => {
    const text = 'İstanbul and Paris';
    const [span] = findAnswerSpans(text, 'paris');
    assert.equal(text.slice(span!.start, span!.end), 'Paris');
    const [ist] = findAnswerSpans(text, 'İstanbul');
    assert.equal(text.slice(ist!.start, ist!.end), 'İstanbul');
  });

  it('prefers whole words: "Fury" does not match inside "Furyous"', () => {
    assert.equal(findAnswerSpans('Furyous fans cheered', 'Fury').length, 0);
    assert.equal(findOccurrences('Furyous fans cheered', 'Fury').length, 1);
    assert.equal(locateAnswer('Furyous fans', 'Fury')!.start, 0, 'locateAnswer falls back to a substring');
  });

  it('treats a combining mark after the match as part of the word', () => {
    const text = 'Rene\u0301 visited Paris'; // René with a combining acute accent
    assert.equal(findAnswerSpans(text, 'Rene').length, 0);
    assert.equal(findAnswerSpans(text, 'Rene\u0301').length, 1);
  });

  it('finds CJK answers inside unspaced text', () => {
    const text = '会议在东京举行。';
    const [span] = findAnswerSpans(text, '东京');
    assert.equal(text.slice(span!.start, span!.end), '东京');
  });

  it('reports every occurrence, with line/character ranges across CRLF lines', () => {
    const text = 'Fury won.\r\nLater Fury lost.';
    const spans = findAnswerSpans(text, 'fury');
    assert.deepEqual(
      spans.map((s) => s.range.start),
      [
        { line: 0, character: 0 },
        { line: 1, character: 6 },
      ],
    );
  });

  it('answers that end in punctuation need no boundary after them', () => {
    assert.ok(isWholeWord('in 2010.5 cases', 3, 8));
    assert.equal(findAnswerSpans('Paid $5m.', '$5m.').length, 1);
  });

  it('an empty answer matches nothing', () => {
    assert.deepEqual(findAnswerSpans('anything', '   '), []);
  });
});

describe('whitespace', () => {
  it('an answer matches across a line wrap in the summary', () => {
    const text = 'Fury beat\n   Klitschko in Paris';
    const [span] = findAnswerSpans(text, 'beat Klitschko');
    assert.equal(text.slice(span!.start, span!.end), 'beat\n   Klitschko');
  });

  it('collapseWhitespace gives the model one-space text and maps offsets back', () => {
    const text = '  Fury   beat\r\n\r\nKlitschko.  ';
    const c = collapseWhitespace(text);
    assert.equal(c.text, 'Fury beat Klitschko.');
    const at = c.text.indexOf('Klitschko');
    assert.equal(text.slice(c.originalOffset(at), c.originalOffset(at) + 9), 'Klitschko');
    assert.equal(c.originalOffset(c.text.length), text.trimEnd().length);
  });
});

describe('numbers with glued units (news text: "£20m", "5ft")', () => {
  // Sentences written the way news text writes amounts, sizes, times and decades.
  const NEWS: [string, string, boolean][] = [
    ['Arsenal signed Parker for £20m on Monday.', '20', true],
    ['The 6ft 5in striker scored twice.', '6', true],
    ['The 6ft 5in striker scored twice.', '5', true],
    ['The deal is worth $3bn over five years.', '3', true],
    ['Temperatures reached 30C in Seville.', '30', true],
    ['Kick-off is at 5pm on Saturday.', '5', true],
    ['The band was formed in the 1990s.', '1990', true],
    ['She finished 5th in the final.', '5', true],
    ['The limit is 20mph near schools.', '20', true],
    // Still refused: a number inside a longer number or a code, or letters continuing a longer word.
    ['The club was founded in 2020.', '20', false],
    ['Traffic on the M5 was stopped.', '5', false],
    ['He paid 20million for it.', '20', false],
    ['Fury beat Furyous.', 'Furyou', false],
  ];
  for (const [text, answer, whole] of NEWS) {
    it(`"${answer}" in "${text}" is ${whole ? '' : 'not '}an answer occurrence`, () => {
      assert.equal(findAnswerSpans(text, answer).length > 0, whole);
    });
  }
  it('the unit rule applies only after a digit', () => {
    assert.equal(isWholeWord('Parkers', 0, 6), false);
    assert.equal(isWholeWord('20m', 0, 2), true);
  });
});
