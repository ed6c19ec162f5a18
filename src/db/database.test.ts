import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DB_FILE, DatabaseError, openDb, setNativeBinding } from './database.js';
import { migrate } from './migrate.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

test('a new database gets WAL, foreign keys, secure_delete and every table', async () => {
  const dir = tempFolder('db-');
  const { sqlite, db } = openDb(dir);
  await migrate(db);
  assert.equal(sqlite.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(sqlite.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(sqlite.pragma('secure_delete', { simple: true }), 1);
  assert.equal(sqlite.pragma('busy_timeout', { simple: true }), 5000);
  const tables = (sqlite.prepare("select name from sqlite_master where type='table' order by name").all() as { name: string }[]).map((r) => r.name);
  for (const t of ['staff', 'services', 'calendar_connections', 'sessions', 'remember_tokens', 'invitations', 'settings', 'key_canary']) assert.ok(tables.includes(t), t);
  assert.ok(!tables.some((t) => /booking|client|appointment/.test(t)), 'no table stores bookings or clients');
  await migrate(db); // idempotent
  await db.destroy();
});

test('a file that is not a SQLite database stops the start and is left untouched', () => {
  const dir = tempFolder('db-');
  mkdirSync(dir, { recursive: true });
  const junk = Buffer.from('this is my shopping list, not a database\n'.repeat(200));
  writeFileSync(join(dir, DB_FILE), junk);
  assert.throws(() => openDb(dir), (e: unknown) => e instanceof DatabaseError && /not a SQLite database/.test(e.message));
  assert.deepEqual(readFileSync(join(dir, DB_FILE)), junk);
});

test('a damaged SQLite database stops the start and is left untouched', async () => {
  const dir = tempFolder('db-');
  const { sqlite, db } = openDb(dir);
  await migrate(db);
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.pragma('journal_mode = DELETE');
  await db.destroy();
  const file = join(dir, DB_FILE);
  const bytes = readFileSync(file);
  // Overwrite the second page onwards with garbage, keeping the header valid.
  for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  writeFileSync(file, bytes);
  assert.throws(() => openDb(dir), (e: unknown) => e instanceof DatabaseError && /(damaged|integrity|cannot be opened)/.test(e.message));
  assert.deepEqual(readFileSync(file), bytes);
});

test('an SQLite addon this Node cannot load is named as such, not as a damaged database', async () => {
  const dir = tempFolder('db-');
  const { db } = openDb(dir);
  await migrate(db);
  await db.destroy();
  const before = readFileSync(join(dir, DB_FILE));
  // What Node's dlopen meets after an upgrade without `npm rebuild`: a file it cannot load as an addon.
  const addon = join(dir, 'better_sqlite3.node');
  writeFileSync(addon, 'not a shared object\n');
  setNativeBinding(addon);
  try {
    for (const folder of [dir, tempFolder('db-')]) {
      assert.throws(
        () => openDb(folder),
        (e: unknown) => e instanceof DatabaseError && /SQLite addon \(better-sqlite3\) cannot be loaded by Node v[\d.]+ .*npm rebuild better-sqlite3/.test(e.message) && !/damaged|backup/.test(e.message),
        folder === dir ? 'an existing database' : 'a new one',
      );
    }
  } finally {
    setNativeBinding(undefined);
  }
  assert.deepEqual(readFileSync(join(dir, DB_FILE)), before, 'the database was not touched');
});
