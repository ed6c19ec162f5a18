import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TtlCache } from './ttl-cache.js';

test('TtlCache: entries expire after their time, the oldest goes at the limit, take() gives a value once', () => {
  const cache = new TtlCache<string>(1000, 2);
  cache.set('a', 'A', 0);
  assert.equal(cache.get('a', 999), 'A');
  assert.equal(cache.get('a', 1000), undefined, 'expired at ttlMs');

  cache.set('a', 'A', 0);
  cache.set('b', 'B', 1);
  cache.set('c', 'C', 2);
  assert.equal(cache.get('a', 3), undefined, 'the oldest made room');
  assert.deepEqual([cache.get('b', 3), cache.get('c', 3)], ['B', 'C']);

  assert.equal(cache.take('b', 4), 'B');
  assert.equal(cache.take('b', 4), undefined, 'a taken value is gone');
  assert.equal(cache.take('c', 2000), undefined, 'an expired one is not given, and is gone');
  assert.equal(cache.get('c', 3), undefined);

  cache.set('k:1', 'x', 0);
  cache.set('k:2', 'y', 0);
  cache.dropPrefix('k:');
  assert.deepEqual([cache.get('k:1', 1), cache.get('k:2', 1)], [undefined, undefined]);
});
