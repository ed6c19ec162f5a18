import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientMayChange } from './policy.js';

const START = Date.UTC(2026, 11, 5, 9, 0);

test('inside the cut-off the client can no longer cancel or move; outside it they can', () => {
  assert.equal(clientMayChange(START, START - 24 * 3600_000 - 1, 1440), true);
  assert.equal(clientMayChange(START, START - 24 * 3600_000, 1440), false, 'the cut-off instant itself is inside');
  assert.equal(clientMayChange(START, START - 60_000, 1440), false);
  assert.equal(clientMayChange(START, START - 60_000, 0), true, 'no cut-off: until the start');
  assert.equal(clientMayChange(START, START, 0), false, 'not once it has started');
});
