import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDays, dateIn, dayRange, isZone, isoIn, parseInstant, zoneLabel, zoneOffset } from './time.js';

const utc = (s: string) => Date.parse(s);

test('offsets and ISO instants with the zone offset', () => {
  assert.equal(zoneOffset('Europe/Paris', utc('2026-01-15T12:00:00Z')), 3600_000);
  assert.equal(zoneOffset('Asia/Kathmandu', utc('2026-01-15T12:00:00Z')), (5 * 60 + 45) * 60_000);
  assert.equal(zoneOffset('Mars/Olympus', 0), null);
  assert.equal(isoIn(utc('2026-12-01T08:00:00Z'), 'Europe/Paris'), '2026-12-01T09:00:00+01:00');
  assert.equal(isoIn(utc('2026-12-01T08:00:00Z'), 'America/New_York'), '2026-12-01T03:00:00-05:00');
  assert.equal(isoIn(utc('2026-12-01T08:00:00Z'), 'UTC'), '2026-12-01T08:00:00Z');
  assert.equal(isoIn(utc('2026-12-01T08:00:00Z'), 'Asia/Kathmandu'), '2026-12-01T13:45:00+05:45');
  assert.equal(zoneLabel('America/New_York', utc('2026-07-01T00:00:00Z')), 'America/New York (UTC-04:00)');
});

test('parseInstant reads only explicit instants and round-trips isoIn', () => {
  const t = utc('2026-03-29T01:30:00Z');
  assert.equal(parseInstant(isoIn(t, 'Europe/Paris')), t);
  assert.equal(parseInstant('2026-12-01T09:00:00+01:00'), utc('2026-12-01T08:00:00Z'));
  assert.equal(parseInstant('2026-12-01T09:00Z'), utc('2026-12-01T09:00:00Z'));
  for (const bad of ['2026-12-01T09:00:00', '2026-02-30T09:00:00Z', '2026-12-01T25:00:00Z', 'tomorrow', '2026-12-01T09:00:00+99:00', '']) {
    assert.equal(parseInstant(bad), null, bad);
  }
});

test('days: local midnights across DST changes; dates in a zone', () => {
  // Paris springs forward on 29 March 2026: that day lasts 23 hours.
  const spring = dayRange('2026-03-29', 'Europe/Paris');
  assert.deepEqual(spring, { start: utc('2026-03-28T23:00:00Z'), end: utc('2026-03-29T22:00:00Z') });
  const fall = dayRange('2026-10-25', 'Europe/Paris');
  assert.equal((fall?.end ?? 0) - (fall?.start ?? 0), 25 * 3600_000);
  // Santiago's clocks change at midnight: the day starts at 01:00 on that date (gap moves forward).
  const santiago = dayRange('2026-09-06', 'America/Santiago');
  assert.equal(santiago?.start, utc('2026-09-06T04:00:00Z'));
  assert.equal(dayRange('2026-02-30', 'Europe/Paris'), null);
  assert.equal(dayRange('2026-02-03', 'Nowhere/City'), null);
  assert.equal(dateIn(utc('2026-12-01T23:30:00Z'), 'Europe/Paris'), '2026-12-02');
  assert.equal(dateIn(utc('2026-12-01T23:30:00Z'), 'America/New_York'), '2026-12-01');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(isZone('Europe/Paris'), true);
  assert.equal(isZone('../../etc/passwd'), false);
});
