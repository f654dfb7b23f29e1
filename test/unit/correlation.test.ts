// Correlations against hand-computed values, and the bootstrap's reproducibility and coverage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { averageRanks, bootstrapInterval, correlate, kendallTauB, pearson, quantile, spearman } from '../../src/metrics/correlation';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

describe('correlation', () => {
  test('x = 1..5, y = 2 1 4 3 5: Pearson = Spearman = 8/10, Kendall = (8 - 2)/10', () => {
    // deviations dx = -2 -1 0 1 2, dy = -1 -2 1 0 2: sum dx*dy = 8, sum dx² = sum dy² = 10.
    // Of the 10 pairs, (1,2) and (3,4) are discordant.
    const x = [1, 2, 3, 4, 5];
    const y = [2, 1, 4, 3, 5];
    close(pearson(x, y), 0.8);
    close(spearman(x, y), 0.8);
    close(kendallTauB(x, y), 0.6);
  });

  test('ties: average ranks for Spearman, tau-b correction for Kendall', () => {
    // x = 1 2 2 3, y = 1 3 2 2. Ranks x = 1 2.5 2.5 4, y = 1 4 2.5 2.5.
    // Rank deviations: -1.5 0 0 1.5 and -1.5 1.5 0 0: sum products 2.25, squares 4.5 each -> 0.5.
    // Pairs: C = 3, D = 1, tied only in x = 1, only in y = 1: tau-b = 2 / sqrt(5 * 5) = 0.4.
    const x = [1, 2, 2, 3];
    const y = [1, 3, 2, 2];
    assert.deepEqual(averageRanks(x), [1, 2.5, 2.5, 4]);
    close(spearman(x, y), 0.5);
    close(kendallTauB(x, y), 0.4);
    // Pearson on raw values: dx = -1 0 0 1, dy = -1 1 0 0 -> 1 / sqrt(2 * 2) = 0.5.
    close(pearson(x, y), 0.5);
  });

  test('perfect and reversed orders; undefined cases are NaN', () => {
    close(pearson([1, 2, 3], [10, 20, 30]), 1);
    close(kendallTauB([1, 2, 3], [3, 2, 1]), -1);
    close(spearman([1, 2, 3], [1, 4, 9]), 1);
    assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
    assert.ok(Number.isNaN(kendallTauB([1], [2])));
    assert.throws(() => pearson([1, 2], [1]), /equal lengths/);
  });

  test('quantile interpolates linearly between order statistics', () => {
    close(quantile([0, 10, 20, 30, 40], 0.25), 10);
    close(quantile([0, 10], 0.975), 9.75);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  test('bootstrap: same seed -> same interval, the interval brackets the estimate, and narrows with n', () => {
    const make = (n: number) => {
      const x = Array.from({ length: n }, (_, i) => i);
      const y = x.map((v, i) => v + ((i * 7919) % 23) - 11); // a noisy increasing relation
      return [x, y] as const;
    };
    const [x, y] = make(60);
    const a = bootstrapInterval(x, y, pearson, { resamples: 500, seed: 42 });
    const b = bootstrapInterval(x, y, pearson, { resamples: 500, seed: 42 });
    const c = bootstrapInterval(x, y, pearson, { resamples: 500, seed: 43 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.low, c.low);
    assert.ok(a.low < a.estimate && a.estimate < a.high, JSON.stringify(a));
    assert.equal(a.valid, 500);
    const [x2, y2] = make(600);
    const wide = a.high - a.low;
    const big = bootstrapInterval(x2, y2, pearson, { resamples: 300, seed: 42 });
    assert.ok(big.high - big.low < wide, `interval at n=600 (${big.high - big.low}) not narrower than at n=60 (${wide})`);
  });

  test('degenerate resamples are dropped and counted, not averaged in', () => {
    const r = bootstrapInterval([1, 2], [1, 2], pearson, { resamples: 200, seed: 3 });
    // Half the resamples of two points repeat one point (constant series -> NaN).
    assert.ok(r.valid > 60 && r.valid < 140, `valid ${r.valid}`);
    assert.deepEqual([r.low, r.high], [1, 1]);
    const all = correlate([1, 2, 3, 4], [1, 3, 2, 4], { resamples: 50 });
    assert.equal(all.n, 4);
    close(all.kendall.estimate, 4 / 6);
  });
});
