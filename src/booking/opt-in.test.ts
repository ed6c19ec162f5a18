import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyringFrom } from '../crypto/keyring.js';
import { BOOKING_ID } from '../crypto/token.js';
import { OPT_IN_TTL_MS, openPending, optInBookingId, sealPending, type PendingBooking } from './opt-in.js';

const k = keyringFrom(Buffer.alloc(32, 3));
const NOW = Date.UTC(2026, 11, 3, 10, 0);
const pending: PendingBooking = {
  staffId: 1,
  serviceId: 2,
  start: Date.UTC(2026, 11, 5, 9, 0),
  tz: 'America/New_York',
  lang: 'fr',
  formId: '0123456789abcdefghijklmnop',
  client: { firstName: 'Zoé', lastName: 'Canary', email: 'zoe@example.com', phone: '+33 6', extra: { note: 'allergic to latex' } },
};

test('the sealed link carries the whole request and hides it', () => {
  const sealed = sealPending(k, pending, NOW);
  assert.match(sealed, /^[A-Za-z0-9._-]+$/, 'safe in a URL path as it is');
  for (const secret of ['zoe@example.com', 'Canary', 'latex', 'New_York']) assert.ok(!sealed.includes(secret));
  const opened = openPending(k, sealed, NOW + 60_000);
  assert.deepEqual(opened, { ok: true, value: pending });
});

test('a link opens for 30 minutes, then says expired', () => {
  const sealed = sealPending(k, pending, NOW);
  assert.equal(openPending(k, sealed, NOW + OPT_IN_TTL_MS - 1).ok, true);
  assert.deepEqual(openPending(k, sealed, NOW + OPT_IN_TTL_MS), { ok: false, error: 'expired' });
});

test('a forged, damaged or other-key link is invalid', () => {
  const sealed = sealPending(k, pending, NOW);
  const parts = sealed.split('.');
  const ct = Buffer.from(parts[3] as string, 'base64url');
  ct[5] = (ct[5] as number) ^ 1;
  parts[3] = ct.toString('base64url');
  assert.deepEqual(openPending(k, parts.join('.'), NOW), { ok: false, error: 'invalid' });
  assert.deepEqual(openPending(keyringFrom(Buffer.alloc(32, 4)), sealed, NOW), { ok: false, error: 'invalid' });
  assert.deepEqual(openPending(k, 'not a link', NOW), { ok: false, error: 'invalid' });
  assert.deepEqual(openPending(k, '', NOW), { ok: false, error: 'invalid' });
});

test('one request, one event id; another slot or form, another id', () => {
  const id = optInBookingId(k, pending);
  assert.match(id, BOOKING_ID);
  assert.equal(optInBookingId(k, { ...pending }), id, 'opening the link twice writes the same event');
  assert.notEqual(optInBookingId(k, { ...pending, start: pending.start + 1_800_000 }), id);
  assert.notEqual(optInBookingId(k, { ...pending, formId: 'vvvvvvvvvvvvvvvvvvvvvvvvvv' }), id);
  assert.notEqual(optInBookingId(keyringFrom(Buffer.alloc(32, 4)), pending), id, 'keyed: not predictable from the request');
});
