import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import SQLite from 'better-sqlite3';
import { boot } from '../boot.js';
import { loadConfig } from '../config.js';
import { KEY_FILE } from '../crypto/keyring.js';
import { createLogger } from '../lib/log.js';
import { main } from '../main.js';
import { Migrator } from 'kysely';
import { DB_FILE, DatabaseError, openDb } from './database.js';
import { MIGRATIONS } from './migrate.js';

// Upgrades and damaged files as an admin meets them: a database from a newer Creneau, a
// damaged or foreign file in the data folder. Each must stop the start with a clear message
// and leave every byte as it was — never "repair" it into an empty database.

const root = mkdtempSync(join(tmpdir(), 'creneau-upgrade-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A data folder with a migrated database and its key, closed (WAL checkpointed). */
async function preparedDir(): Promise<string> {
  const dataDir = join(root, `d${++n}`);
  const deps = await boot(loadConfig({ CRENEAU_DATA_DIR: dataDir, CRENEAU_LOG: 'off' }), { log: createLogger('off', () => undefined) });
  const now = Date.now();
  await deps.db
    .insertInto('staff')
    .values({ username: 'alice', display_name: 'Alice', email: 'alice@example.com', locale: 'en', time_zone: 'UTC', is_owner: 1, created_at: now, updated_at: now, password_hash: null, google_sub: null, bio: '', place: '', picture: null, picture_type: null })
    .execute();
  await deps.db.destroy();
  return dataDir;
}

/**
 * Every file in the folder with its bytes: what "left untouched" means. SQLite's own -shm
 * index and an empty -wal may appear when it opens a WAL database to check it; a -wal with
 * content would be a write and is kept in the comparison.
 */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((name): [string, Buffer] => [name, readFileSync(join(dir, name))])
      .filter(([name, bytes]) => !name.endsWith('-shm') && !(name.endsWith('-wal') && bytes.length === 0)),
  );
}

async function start(t: TestContext, dataDir: string): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const err = t.mock.method(console, 'error', (...a: unknown[]) => void errors.push(a.join(' ')));
  const log = t.mock.method(console, 'log', () => undefined);
  try {
    // `backup` boots exactly like `serve` (open, migrate, prove the key) and then ends.
    const code = await main(['backup', join(root, `out-${++n}.sqlite`)], { CRENEAU_DATA_DIR: dataDir, CRENEAU_LOG: 'off' });
    return { code, stderr: errors.join('\n') };
  } finally {
    err.mock.restore();
    log.mock.restore();
  }
}

test('a database upgraded by a newer Creneau is refused with a clear message and left untouched', async (t) => {
  const dataDir = await preparedDir();
  const sqlite = new SQLite(join(dataDir, DB_FILE));
  sqlite.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('900-from-the-future', new Date().toISOString());
  sqlite.close();
  const before = snapshot(dataDir);

  await assert.rejects(
    boot(loadConfig({ CRENEAU_DATA_DIR: dataDir, CRENEAU_LOG: 'off' })),
    (e: unknown) => e instanceof DatabaseError && /newer version of Creneau/.test(e.message) && e.message.includes('900-from-the-future'),
  );
  const res = await start(t, dataDir);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^creneau: the database was upgraded by a newer version of Creneau \(migration 900-from-the-future\); run that version or restore a backup/);
  assert.deepEqual(snapshot(dataDir), before, 'not one byte changed');
});

test('a database from the first release is brought up to date in place, its data kept', async (t) => {
  // Build the schema as the first release did (only the first migration), then start today's version.
  const dataDir = join(root, `d${++n}`);
  mkdirSync(dataDir, { recursive: true });
  const { sqlite, db } = openDb(dataDir);
  const [firstName, first] = Object.entries(MIGRATIONS)[0] ?? [];
  assert.ok(firstName && first);
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => ({ [firstName]: first }) } }).migrateToLatest();
  assert.equal(error, undefined);
  const now = Date.now();
  sqlite
    .prepare('insert into staff (username, display_name, email, locale, time_zone, is_owner, created_at, updated_at) values (?, ?, ?, ?, ?, 1, ?, ?)')
    .run('alice', 'Alice', 'alice@example.com', 'en', 'UTC', now, now);
  await db.destroy();

  assert.equal((await start(t, dataDir)).code, 0);
  const check = new SQLite(join(dataDir, DB_FILE), { readonly: true });
  const applied = (check.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name);
  assert.deepEqual(applied, Object.keys(MIGRATIONS).sort(), 'every migration is recorded once');
  assert.equal((check.prepare('select username from staff').get() as { username: string }).username, 'alice', 'the data survived');
  check.close();
  assert.equal((await start(t, dataDir)).code, 0, 'a second start is a no-op');
});

test('a damaged database is refused and never replaced by an empty one', async (t) => {
  const dataDir = await preparedDir();
  const file = join(dataDir, DB_FILE);
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 8192);
  // Garbage over every page after the first: the header still says SQLite.
  for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  writeFileSync(file, bytes);
  const before = snapshot(dataDir);

  const res = await start(t, dataDir);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /creneau\.sqlite (is damaged|failed its integrity check|cannot be opened)[\s\S]*refusing to start[\s\S]*restore it from a backup/);
  assert.deepEqual(snapshot(dataDir), before, 'the damaged file and the key are exactly as they were');
});

test('a truncated database (a copy cut short) is refused and left as it is', async (t) => {
  const dataDir = await preparedDir();
  const file = join(dataDir, DB_FILE);
  writeFileSync(file, readFileSync(file).subarray(0, 6000));
  const before = snapshot(dataDir);
  const res = await start(t, dataDir);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /refusing to start/);
  assert.deepEqual(snapshot(dataDir), before);
});

test('a file that is not SQLite in place of the database is refused, untouched, and no key is generated', async (t) => {
  const dataDir = join(root, 'foreign');
  mkdirSync(dataDir, { recursive: true });
  const junk = Buffer.from('PK\u0003\u0004 this is a zip file someone restored by mistake'.repeat(100));
  writeFileSync(join(dataDir, DB_FILE), junk);
  const res = await start(t, dataDir);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /is not a SQLite database; refusing to start/);
  assert.deepEqual(readFileSync(join(dataDir, DB_FILE)), junk);
  assert.ok(!existsSync(join(dataDir, KEY_FILE)), 'nothing else was created next to it');
  assert.deepEqual(readdirSync(dataDir), [DB_FILE]);
});
