import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IANAZone } from 'luxon';
import { zoneOffsetMemo } from './time.js';
import { rng } from '../../scripts/test-support/rng.js';

// zoneOffsetMemo against luxon (its own Intl formatToParts path, which the calendar reader used
// before): every expected offset here is luxon's. luxon answers in minutes, possibly fractional
// for local mean time (Paris: +9:21), so it is compared in whole milliseconds.

const DAY = 86_400_000;
const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];

const luxonMs = (zone: IANAZone, t: number): number => Math.round(zone.offset(t) * 60_000);


/** The instants luxon changes offset at between two dates: a daily scan, then bisection to the second. */
function luxonTransitions(zone: IANAZone, from: number, to: number): number[] {
  const out: number[] = [];
  let prev = luxonMs(zone, from);
  for (let t = from + DAY; t <= to; t += DAY) {
    const o = luxonMs(zone, t);
    if (o === prev) continue;
    let lo = t - DAY;
    let hi = t;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (luxonMs(zone, mid) === prev) lo = mid;
      else hi = mid;
    }
    out.push(hi);
    prev = o;
  }
  return out;
}

for (const name of ZONES) {
  test(`memoised offsets equal luxon's around every change of ${name}, 1970–2040`, () => {
    const zone = IANAZone.create(name);
    const memo = zoneOffsetMemo(name);
    assert.ok(memo);
    const changes = luxonTransitions(zone, Date.UTC(1970, 0, 1), Date.UTC(2040, 0, 1));
    assert.ok(changes.length >= (name === 'Asia/Kathmandu' ? 1 : 100), `${name}: ${changes.length} changes`);
    let checked = 0;
    for (const at of changes) {
      for (const d of [-DAY, -3_600_000, -60_000, -1000, -1, 0, 1, 999, 1000, 60_000, 3_600_000, DAY]) {
        assert.equal(memo(at + d), luxonMs(zone, at + d), `${name} at ${new Date(at + d).toISOString()}`);
        checked++;
      }
      // Every quarter hour of the day around the change.
      for (let t = at - 12 * 3_600_000; t < at + 12 * 3_600_000; t += 900_000) assert.equal(memo(t), luxonMs(zone, t), `${name} at ${new Date(t).toISOString()}`);
    }
    assert.ok(checked > 0);
  });
}

test('memoised offsets equal luxon at random instants from 1800 to 2200, asked in any order', () => {
  const r = rng(13);
  for (const name of ZONES) {
    const zone = IANAZone.create(name);
    const memo = zoneOffsetMemo(name);
    assert.ok(memo);
    const from = Date.UTC(1800, 0, 1);
    const to = Date.UTC(2200, 0, 1);
    for (let i = 0; i < 3000; i++) {
      const t = Math.floor(from + r() * (to - from));
      assert.equal(memo(t), luxonMs(zone, t), `${name} at ${new Date(t).toISOString()}`);
    }
  }
});

test('memoised offsets equal luxon for every zone the runtime knows (sampled)', () => {
  const r = rng(7);
  for (const name of Intl.supportedValuesOf('timeZone')) {
    const zone = IANAZone.create(name);
    const memo = zoneOffsetMemo(name);
    assert.ok(memo, name);
    for (let i = 0; i < 20; i++) {
      const t = Math.floor(Date.UTC(1970, 0, 1) + r() * 70 * 365 * DAY);
      assert.equal(memo(t), luxonMs(zone, t), `${name} at ${new Date(t).toISOString()}`);
    }
  }
});

test('the edges of Date, and zones Intl does not know, as luxon answers them', () => {
  const zone = IANAZone.create('Europe/Paris');
  const memo = zoneOffsetMemo('Europe/Paris');
  assert.ok(memo);
  for (const t of [-8.64e15, -8.64e15 + 1, 8.64e15 - 1, 8.64e15, 8.64e15 - DAY / 3]) assert.equal(memo(t), luxonMs(zone, t), String(t));
  for (const t of [8.64e15 + 1, -8.64e15 - 1, NaN, Infinity]) assert.ok(Number.isNaN(memo(t)) && Number.isNaN(zone.offset(t)), String(t));
  for (const bad of ['Nowhere/Atlantis', 'Europe/Paris ', '']) {
    assert.equal(zoneOffsetMemo(bad), null, bad);
    assert.equal(IANAZone.isValidZone(bad), false, bad);
  }
});
