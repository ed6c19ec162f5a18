import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDb } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { loadKeyring, rotateKey } from './key.service.js';
import { KEY_FILE, KeyError, NEW_KEY_FILE, keyringFrom, writeKeyFile } from './keyring.js';
import { open, seal, SealError } from './seal.js';
import { base32hex, bookingToken, newBookingId, parseToken, verifyBookingToken } from './token.js';
import { connectionSecretAad } from './key.repo.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

async function freshDb() {
  const dir = tempFolder('crypto-');
  const { db } = openDb(dir);
  await migrate(db);
  return { dir, db };
}

test('seal/open round trip; tampering, wrong row and wrong key are refused', () => {
  const k = keyringFrom(Buffer.alloc(32, 1));
  const env = seal(k, 'app-password', 'calendar_connections:1:secret');
  assert.match(env, /^v1\.[0-9a-f]{8}\./);
  assert.ok(!env.includes('app-password'));
  assert.equal(open(k, env, 'calendar_connections:1:secret'), 'app-password');
  assert.notEqual(seal(k, 'app-password', 'x'), seal(k, 'app-password', 'x'), 'fresh IV each time');
  assert.throws(() => open(k, env, 'calendar_connections:2:secret'), SealError);
  const parts = env.split('.');
  const ct = Buffer.from(parts[3] as string, 'base64url');
  ct[0] = (ct[0] as number) ^ 1;
  parts[3] = ct.toString('base64url');
  assert.throws(() => open(k, parts.join('.'), 'calendar_connections:1:secret'), SealError);
  assert.throws(() => open(keyringFrom(Buffer.alloc(32, 2)), env, 'calendar_connections:1:secret'), SealError);
  assert.throws(() => open(k, env.replace(/^v1/, 'v9'), 'calendar_connections:1:secret'), SealError);
});

test('first run generates a 0600 key file; the next start reuses it', async () => {
  const { dir, db } = await freshDb();
  const k1 = await loadKeyring(db, dir, null);
  const file = join(dir, KEY_FILE);
  assert.ok(existsSync(file));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const k2 = await loadKeyring(db, dir, null);
  assert.equal(k2.keyId, k1.keyId);
  await db.destroy();
});

test('a wrong or missing key with sealed data refuses to start and touches nothing', async () => {
  const { dir, db } = await freshDb();
  const k = await loadKeyring(db, dir, null);
  await db
    .insertInto('staff')
    .values({ username: 'alice', display_name: 'A', email: 'a@example.com', locale: 'en', time_zone: 'UTC', is_owner: 1, created_at: 0, updated_at: 0, bio: '', place: '' })
    .execute();
  await db
    .insertInto('calendar_connections')
    .values({ id: 1, staff_id: 1, provider: 'caldav', url: 'https://dav.example.com/', username: 'alice', secret_sealed: seal(k, 'pw', connectionSecretAad(1)), booking_calendar: 'x', conflict_calendars: '[]', status: 'ok', server_schedules: 0, created_at: 0, updated_at: 0 })
    .execute();
  const before = readFileSync(join(dir, KEY_FILE));
  await assert.rejects(loadKeyring(db, dir, Buffer.alloc(32, 9)), (e: unknown) => e instanceof KeyError && /not the key this database was sealed with/.test(e.message));
  writeFileSync(join(dir, KEY_FILE), `${Buffer.alloc(32, 3).toString('base64')}\n`);
  await assert.rejects(loadKeyring(db, dir, null), KeyError);
  writeFileSync(join(dir, KEY_FILE), before);
  const again = await loadKeyring(db, dir, null);
  assert.equal(again.keyId, k.keyId);
  const row = await db.selectFrom('calendar_connections').select('secret_sealed').executeTakeFirstOrThrow();
  assert.equal(open(again, row.secret_sealed, connectionSecretAad(1)), 'pw');
  await db.destroy();
});

test('rotate-key re-seals every secret; an interrupted rotation recovers', async () => {
  const { dir, db } = await freshDb();
  const k = await loadKeyring(db, dir, null);
  await db
    .insertInto('staff')
    .values({ username: 'bob', display_name: 'B', email: 'b@example.com', locale: 'en', time_zone: 'UTC', is_owner: 1, created_at: 0, updated_at: 0, bio: '', place: '' })
    .execute();
  await db
    .insertInto('calendar_connections')
    .values({ id: 7, staff_id: 1, provider: 'google', url: null, username: 'b', secret_sealed: seal(k, 'refresh-token', connectionSecretAad(7)), booking_calendar: 'primary', conflict_calendars: '[]', status: 'ok', server_schedules: 1, created_at: 0, updated_at: 0 })
    .execute();
  const next = await rotateKey(db, dir, k, Buffer.alloc(32, 4), true);
  assert.notEqual(next.keyId, k.keyId);
  assert.ok(!existsSync(join(dir, NEW_KEY_FILE)));
  const loaded = await loadKeyring(db, dir, null);
  assert.equal(loaded.keyId, next.keyId);
  const row = await db.selectFrom('calendar_connections').select('secret_sealed').executeTakeFirstOrThrow();
  assert.equal(open(loaded, row.secret_sealed, connectionSecretAad(7)), 'refresh-token');
  assert.throws(() => open(k, row.secret_sealed, connectionSecretAad(7)), SealError);

  // Crash after the commit but before the key file swap: the pending key is adopted.
  const third = Buffer.alloc(32, 5);
  writeKeyFile(join(dir, NEW_KEY_FILE), third);
  await rotateKey(db, dir, loaded, third, false);
  const recovered = await loadKeyring(db, dir, null);
  assert.equal(recovered.keyId, keyringFrom(third).keyId);
  assert.ok(!existsSync(join(dir, NEW_KEY_FILE)));
  await db.destroy();
});

test('booking ids are 128-bit base32hex; tokens verify in constant time and bind every field', () => {
  assert.equal(base32hex(Buffer.from([0xff, 0xff])), 'vvvg');
  assert.equal(base32hex(Buffer.from('f')), 'co');
  const ids = new Set(Array.from({ length: 1000 }, newBookingId));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9a-v]{26}$/);
  const k = keyringFrom(Buffer.alloc(32, 1));
  const id = newBookingId();
  const token = bookingToken(k, { staffId: 1, connectionId: 2, bookingId: id });
  assert.ok(parseToken(token));
  assert.equal(verifyBookingToken(k, token, { staffId: 1, connectionId: 2 }), true);
  assert.equal(verifyBookingToken(k, token, { staffId: 2, connectionId: 2 }), false);
  assert.equal(verifyBookingToken(k, token, { staffId: 1, connectionId: 3 }), false);
  assert.equal(verifyBookingToken(keyringFrom(Buffer.alloc(32, 2)), token, { staffId: 1, connectionId: 2 }), false);
  const otherId = newBookingId();
  assert.equal(verifyBookingToken(k, `${otherId}${token.slice(26)}`, { staffId: 1, connectionId: 2 }), false);
  assert.equal(verifyBookingToken(k, `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`, { staffId: 1, connectionId: 2 }), false);
  assert.equal(verifyBookingToken(k, 'garbage', { staffId: 1, connectionId: 2 }), false);
});
