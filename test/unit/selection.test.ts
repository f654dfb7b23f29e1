import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PairCandidate, selectRoundRobin } from '../../src/scoring/selection';

const c = (question: string, answer: string, sumScore: number): PairCandidate<string> => ({ question, answer, sumScore, payload: `${question}|${answer}` });

describe('round-robin selection (spec section 3)', () => {
  const candidates = [
    c('Who won?', 'Fury', -2),
    c('Who lost?', 'Klitschko', -1),
    c('Who beat Klitschko?', 'fury', -3),
    c('Where?', 'Dusseldorf', -4),
    c('Who lost?', 'Klitschko', -5), // duplicate (answer, question)
    c('Who was beaten?', 'Klitschko', -6),
  ];

  it('sorts by score, buckets by lower-cased answer in order of first appearance, takes one per bucket per pass', () => {
    const got = selectRoundRobin(candidates, 10).map((x) => x.payload);
    assert.deepEqual(got, ['Who lost?|Klitschko', 'Who won?|Fury', 'Where?|Dusseldorf', 'Who was beaten?|Klitschko', 'Who beat Klitschko?|fury']);
  });

  it('stops exactly at the cap', () => {
    assert.deepEqual(
      selectRoundRobin(candidates, 2).map((x) => x.payload),
      ['Who lost?|Klitschko', 'Who won?|Fury'],
    );
  });

  it('reference cap: checked only between passes, so a pass can overshoot', () => {
    assert.equal(selectRoundRobin(candidates, 2, true).length, 3);
  });

  it('nothing in, nothing out', () => {
    assert.deepEqual(selectRoundRobin([], 10), []);
  });
});
