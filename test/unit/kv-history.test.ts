// The quals-step self-attention history: rows are appended, never moved, and fed as views.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KvHistory } from '../../src/scoring/model/kv-history';

const rowsOf = (count: number, width: number, start: number) => Float32Array.from({ length: count * width }, (_, i) => start + i);

describe('KvHistory', () => {
  test('appends rows past its capacity without moving earlier ones; feeds are views over the rows written', () => {
    const h = new KvHistory(['history.0.key', 'history.0.value'], 2, 3, 4); // rows of 6 floats, room for 4
    assert.deepEqual(h.feeds()['history.0.key']!.dims, [0, 2, 3]);
    assert.equal(h.append([rowsOf(3, 6, 0), rowsOf(3, 6, 1000)], 3), 0);
    const before = h.feeds();
    assert.equal(h.append([rowsOf(5, 6, 100), rowsOf(5, 6, 2000)], 5), 3); // grows
    assert.equal(h.rows, 8);
    const after = h.feeds();
    assert.deepEqual(after['history.0.key']!.dims, [8, 2, 3]);
    const key = after['history.0.key']!.data as Float32Array;
    assert.deepEqual(Array.from(key.subarray(0, 18)), Array.from(rowsOf(3, 6, 0)));
    assert.deepEqual(Array.from(key.subarray(18)), Array.from(rowsOf(5, 6, 100)));
    assert.deepEqual(Array.from((after['history.0.value']!.data as Float32Array).subarray(18, 24)), Array.from(rowsOf(1, 6, 2000)));
    // A call fed before the growth still reads the rows it was given.
    assert.deepEqual(before['history.0.key']!.dims, [3, 2, 3]);
    assert.deepEqual(Array.from(before['history.0.key']!.data as Float32Array), Array.from(rowsOf(3, 6, 0)));
  });

  test('refuses arrays that do not match its inputs or the row count', () => {
    const h = new KvHistory(['a', 'b'], 1, 2);
    assert.throws(() => h.append([rowsOf(1, 2, 0)], 1), /1 arrays for 2 inputs/);
    assert.throws(() => h.append([rowsOf(1, 2, 0), rowsOf(2, 2, 0)], 1), /4 floats for 1 rows of 2/);
  });
});
