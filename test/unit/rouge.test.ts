// ROUGE against values worked out by hand from the definitions (Lin, 2004).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lcsLength, rouge, rougeL, rougeN, tokenize } from '../../src/metrics/rouge';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

describe('rouge', () => {
  test('tokenises like rouge_score: lower-case, runs of [a-z0-9]', () => {
    assert.deepEqual(tokenize("The U.S. co-pilot's 2nd flight — café!"), ['the', 'u', 's', 'co', 'pilot', 's', '2nd', 'flight', 'caf']);
    assert.deepEqual(tokenize('  ...  '), []);
  });

  test('ROUGE-1/2/L on "the cat sat on the mat" vs "the cat was on the mat"', () => {
    // unigrams: candidate {the:2, cat, sat, on, mat}, reference {the:2, cat, was, on, mat}: overlap 5 of 6 each way.
    // bigrams: cand {the cat, cat sat, sat on, on the, the mat}, ref {the cat, cat was, was on, on the, the mat}: overlap 3 of 5.
    // LCS: the cat on the mat = 5.
    const r = rouge('The cat sat on the mat.', 'the cat was on the mat');
    close(r.rouge1.precision, 5 / 6);
    close(r.rouge1.recall, 5 / 6);
    close(r.rouge1.f1, 5 / 6);
    close(r.rouge2.f1, 3 / 5);
    close(r.rougeL.f1, 5 / 6);
  });

  test('unequal lengths and clipped counts', () => {
    // cand "a a a b" vs ref "a b c": unigram overlap min(3,1)+min(1,1) = 2; P = 2/4, R = 2/3, F = 2PR/(P+R) = 4/7.
    const r1 = rougeN(['a', 'a', 'a', 'b'], ['a', 'b', 'c'], 1);
    close(r1.precision, 0.5);
    close(r1.recall, 2 / 3);
    close(r1.f1, 4 / 7);
    // bigrams: cand {a a:2, a b:1}, ref {a b, b c}: overlap 1; P = 1/3, R = 1/2, F = 0.4.
    close(rougeN(['a', 'a', 'a', 'b'], ['a', 'b', 'c'], 2).f1, 0.4);
    // LCS of "a b c d e" and "a c e b": "a c e" = 3; P = 3/5 (cand = first), R = 3/4, F = 2/3.
    assert.equal(lcsLength(['a', 'b', 'c', 'd', 'e'], ['a', 'c', 'e', 'b']), 3);
    const l = rougeL(['a', 'b', 'c', 'd', 'e'], ['a', 'c', 'e', 'b']);
    close(l.precision, 3 / 5);
    close(l.recall, 3 / 4);
    close(l.f1, 2 / 3);
  });

  test('no overlap or an empty side scores 0, not NaN', () => {
    assert.deepEqual(rouge('alpha beta', 'gamma delta').rouge1, { precision: 0, recall: 0, f1: 0 });
    assert.deepEqual(rouge('', 'gamma').rougeL, { precision: 0, recall: 0, f1: 0 });
    assert.equal(rouge('one', 'one').rouge2.f1, 0, 'a single token has no bigram');
  });
});
