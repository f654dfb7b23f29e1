import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngine } from '../../src/scoring/engine';
import type { QualsEngine } from '../../src/scoring/engine-api';

const TOY = 'models/tiny-qagen';
const source = 'Fury beat Klitschko in Dusseldorf on Saturday. The crowd was loud.';
const summary = 'Fury beat Klitschko in Dusseldorf on Saturday.';

describe('results record how they were computed; reference mode end to end', () => {
  let engine: QualsEngine;
  before(async () => {
    engine = await createEngine({ model: TOY, device: 'cpu', options: { mode: 'reference' } });
  });
  after(async () => {
    await engine?.dispose();
  });

  it('computedWith: effective options, the search that ran, and where each option came from', async () => {
    const r = await engine.score({ source, summary, options: { maxPairs: 5 } });
    const w = r.computedWith!;
    assert.equal(w.mode, 'reference');
    assert.equal(w.beamSearch, 'fairseq', 'reference mode runs the fairseq search whatever beamSearch says');
    assert.equal(w.options.maxPairs, 5);
    assert.equal(w.origin.maxPairs, 'request');
    assert.equal(w.origin.mode, 'user');
    assert.equal(w.origin.numBeams, 'model', "the toy's quals.json sets numBeams");
    assert.equal(w.origin.maxLength, 'default');
    // a cached result gets the origins of the new request
    const again = await engine.score({ source, summary, options: { maxPairs: 5 } });
    assert.deepEqual(again.computedWith, w);
  });

  it('reference mode: LL_S is the generation score, QUALS the mean of LL_D - LL_S, answers are substrings', async () => {
    const r = await engine.score({ source, summary });
    assert.equal(r.mode, 'reference');
    assert.ok(r.pairs.length > 0);
    for (const p of r.pairs) {
      assert.equal(p.llSummary, p.generationScore);
      assert.ok(summary.toLowerCase().includes(p.answer.toLowerCase()));
    }
    const mean = r.pairs.reduce((a, p) => a + p.score, 0) / r.pairs.length;
    assert.ok(Math.abs(r.score! - mean) < 1e-12);
  });
});
