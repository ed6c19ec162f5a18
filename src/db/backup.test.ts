import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { createApp } from '../app.js';
import { boot } from '../boot.js';
import { loadConfig } from '../config.js';
import { connectionSecretAad } from '../crypto/key.repo.js';
import { generateMasterKey, KEY_FILE, KeyError, readKeyFile } from '../crypto/keyring.js';
import { open, seal } from '../crypto/seal.js';
import type { Deps } from '../deps.js';
import { createLogger } from '../lib/log.js';
import { main } from '../main.js';
import { DB_FILE } from './database.js';

// Backups, restores and key rotation as an admin does them (docs/backups.md): real SQLite
// files in temporary folders, the CLI's main(), the app serving over HTTP.

const root = mkdtempSync(join(tmpdir(), 'creneau-backup-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${++n}`);
const PASSWORD = 'caldav-app-password';

async function bootDir(dataDir: string, key?: Buffer): Promise<Deps> {
  const env: Record<string, string> = { CRENEAU_DATA_DIR: dataDir, CRENEAU_LOG: 'off' };
  if (key) env.CRENEAU_SECRET_KEY = key.toString('base64');
  const config = loadConfig(env);
  return boot(config, { log: createLogger('off', () => undefined) });
}

/** A staff member with a CalDAV connection (sealed password) and a large picture, so the backup takes many steps. */
async function seed(deps: Deps, pictures = 0): Promise<void> {
  const now = Date.now();
  const { id } = await deps.db
    .insertInto('staff')
    .values({ username: 'alice', display_name: 'Alice Martin', email: 'alice@example.com', locale: 'fr', time_zone: 'Europe/Paris', is_owner: 1, created_at: now, updated_at: now, password_hash: null, google_sub: null, bio: '', place: '', picture: null, picture_type: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  const conn = await deps.db
    .insertInto('calendar_connections')
    .values({ staff_id: id, provider: 'caldav', url: 'https://dav.example.com/', username: 'alice', secret_sealed: 'pending', booking_calendar: 'Bookings', conflict_calendars: '[]', status: 'ok', server_schedules: 0, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  await deps.db.updateTable('calendar_connections').set({ secret_sealed: seal(deps.keyring, PASSWORD, connectionSecretAad(conn.id)) }).where('id', '=', conn.id).execute();
  for (let i = 0; i < pictures; i++) {
    await deps.db
      .insertInto('staff')
      .values({ username: `staff${i}`, display_name: `Staff ${i}`, email: `s${i}@example.com`, locale: 'en', time_zone: 'UTC', is_owner: 0, created_at: now, updated_at: now, password_hash: null, google_sub: null, bio: '', place: '', picture: Buffer.alloc(256 * 1024, i), picture_type: 'image/png' })
      .execute();
  }
}

/** The CalDAV password, opened with the database's current key. */
async function openedPassword(deps: Deps): Promise<string> {
  const row = await deps.db.selectFrom('calendar_connections').select(['id', 'secret_sealed']).executeTakeFirstOrThrow();
  return open(deps.keyring, row.secret_sealed, connectionSecretAad(row.id));
}

/** Runs the CLI as `creneau ...` with an environment; returns the exit code and what it printed on stderr. */
async function cli(t: TestContext, argv: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const err = t.mock.method(console, 'error', (...a: unknown[]) => void errors.push(a.join(' ')));
  const log = t.mock.method(console, 'log', () => undefined);
  try {
    return { code: await main(argv, { CRENEAU_LOG: 'off', ...env }), stderr: errors.join('\n') };
  } finally {
    err.mock.restore();
    log.mock.restore();
  }
}

function listen(deps: Deps): Promise<Server> {
  const { app } = createApp(deps);
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

test('backup while serving: /healthz keeps answering, the copy restores with the same key', async (t) => {
  const dataDir = freshDir();
  const deps = await bootDir(dataDir);
  await seed(deps, 60); // ~15 MiB: the online backup runs in many steps
  const server = await listen(deps);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(root, 'while-serving.sqlite');
  try {
    let backingUp = true;
    const statuses: number[] = [];
    const poll = (async () => {
      while (backingUp) {
        const res = await fetch(`${base}/healthz`);
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    })();
    const result = await cli(t, ['backup', file], { CRENEAU_DATA_DIR: dataDir });
    backingUp = false;
    await poll;
    assert.equal(result.code, 0, result.stderr);
    t.diagnostic(`${statuses.length} /healthz requests answered during the backup`);
    assert.ok(statuses.length >= 1, 'the server was asked during the backup');
    assert.deepEqual([...new Set(statuses)], [200], 'every /healthz during the backup answered 200');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    // A second backup to the same name is refused, never overwritten.
    const again = await cli(t, ['backup', file], { CRENEAU_DATA_DIR: dataDir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await deps.db.destroy();
  }

  // Restore: the copy and the key file into a new data folder.
  const restored = freshDir();
  mkdirSync(restored, { recursive: true, mode: 0o700 });
  copyFileSync(file, join(restored, DB_FILE));
  copyFileSync(join(dataDir, KEY_FILE), join(restored, KEY_FILE));
  const back = await bootDir(restored);
  try {
    const names = (await back.db.selectFrom('staff').select('username').orderBy('id').execute()).map((r) => r.username);
    assert.equal(names.length, 61);
    assert.equal(names[0], 'alice');
    assert.equal(await openedPassword(back), PASSWORD, 'the sealed CalDAV password opens after the restore');
  } finally {
    await back.db.destroy();
  }
});

test('a restored backup with another key is refused with a message naming the key, and left untouched', async (t) => {
  const key = generateMasterKey();
  const dataDir = freshDir();
  const deps = await bootDir(dataDir, key);
  await seed(deps);
  await deps.db.destroy();
  const file = join(root, 'keyed.sqlite');
  assert.equal((await cli(t, ['backup', file], { CRENEAU_DATA_DIR: dataDir, CRENEAU_SECRET_KEY: key.toString('base64') })).code, 0);

  // Configured key: the wrong one.
  const restored = freshDir();
  mkdirSync(restored, { recursive: true });
  copyFileSync(file, join(restored, DB_FILE));
  const before = readFileSync(join(restored, DB_FILE));
  await assert.rejects(bootDir(restored, generateMasterKey()), (e: unknown) => e instanceof KeyError && /CRENEAU_SECRET_KEY/.test(e.message) && /refusing to start/.test(e.message));
  const viaCli = await cli(t, ['backup', join(root, 'never.sqlite')], { CRENEAU_DATA_DIR: restored, CRENEAU_SECRET_KEY: generateMasterKey().toString('base64') });
  assert.equal(viaCli.code, 1);
  assert.match(viaCli.stderr, /CRENEAU_SECRET_KEY.*not the key this database was sealed with/);
  assert.ok(!existsSync(join(root, 'never.sqlite')));

  // No key at all: the restore forgot the key; a new key file must not be generated over sealed data.
  await assert.rejects(bootDir(restored), (e: unknown) => e instanceof KeyError && e.message.includes(join(restored, KEY_FILE)));
  assert.ok(!existsSync(join(restored, KEY_FILE)), 'no key was generated for a database that has sealed secrets');

  // The right key still works, so nothing was re-sealed by the failed attempts.
  assert.deepEqual(readFileSync(join(restored, DB_FILE)), before);
  const ok = await bootDir(restored, key);
  assert.equal(await openedPassword(ok), PASSWORD);
  await ok.db.destroy();
});

test('rotate-key with the generated key file: secrets open under the new key, the old key is refused', async (t) => {
  const dataDir = freshDir();
  const deps = await bootDir(dataDir);
  await seed(deps);
  const oldKeyId = deps.keyring.keyId;
  await deps.db.destroy();
  const oldKey = readKeyFile(join(dataDir, KEY_FILE));

  const res = await cli(t, ['rotate-key'], { CRENEAU_DATA_DIR: dataDir });
  assert.equal(res.code, 0, res.stderr);
  const newKey = readKeyFile(join(dataDir, KEY_FILE));
  assert.notDeepEqual(newKey, oldKey, 'secret.key was replaced');
  assert.ok(!existsSync(join(dataDir, 'secret.key.new')));

  const after = await bootDir(dataDir);
  assert.notEqual(after.keyring.keyId, oldKeyId);
  assert.equal(await openedPassword(after), PASSWORD);
  await after.db.destroy();

  // Putting the old key file back (an old backup of the key) is refused.
  writeFileSync(join(dataDir, KEY_FILE), `${oldKey.toString('base64')}\n`, { mode: 0o600 });
  await assert.rejects(bootDir(dataDir), (e: unknown) => e instanceof KeyError && /not the key this database was sealed with/.test(e.message));
});

test('rotate-key with CRENEAU_SECRET_KEY: --new-key-file re-seals, then only the new value starts', async (t) => {
  const oldKey = generateMasterKey();
  const dataDir = freshDir();
  const deps = await bootDir(dataDir, oldKey);
  await seed(deps);
  await deps.db.destroy();
  const env = { CRENEAU_DATA_DIR: dataDir, CRENEAU_SECRET_KEY: oldKey.toString('base64') };

  const missing = await cli(t, ['rotate-key'], env);
  assert.equal(missing.code, 2, 'the new key must be given when the key comes from the environment');
  assert.match(missing.stderr, /--new-key-file/);

  const newKey = generateMasterKey();
  const newKeyFile = join(root, 'new.key');
  writeFileSync(newKeyFile, `${newKey.toString('base64')}\n`, { mode: 0o600 });
  const res = await cli(t, ['rotate-key', '--new-key-file', newKeyFile], env);
  assert.equal(res.code, 0, res.stderr);
  assert.ok(!existsSync(join(dataDir, KEY_FILE)), 'no key file is written when the key is configured');

  const old = await cli(t, ['backup', join(root, 'old-key.sqlite')], env);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /CRENEAU_SECRET_KEY/);
  const fresh = await bootDir(dataDir, newKey);
  assert.equal(await openedPassword(fresh), PASSWORD);
  await fresh.db.destroy();
});
