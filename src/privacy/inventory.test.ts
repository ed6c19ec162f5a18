import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { openDb, type Db } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { COOKIE_BASE_NAMES } from '../web/cookies.js';
import { createI18n } from '../web/i18n.js';
import { LOCALES } from '../config.js';
import { COOKIES, DATA_CLASSES, INVENTORY } from './inventory.js';
import { readSchema } from './privacy.repo.js';
import { schemaDrift } from './privacy.service.js';

let dir: string;
let db: Db;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'creneau-inventory-'));
  ({ db } = openDb(dir));
  await migrate(db);
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('every column of the live schema is classified, and the inventory names no column that does not exist', async () => {
  const live = await readSchema(db);
  assert.ok(live.some((t) => t.table === 'staff'), 'the schema was read');
  assert.ok(live.some((t) => t.table === 'kysely_migration_lock'), "kysely's own tables are part of the file");
  const drift = await schemaDrift(db);
  assert.deepEqual(drift.unclassified, [], 'columns in the database that src/privacy/inventory.ts does not classify');
  assert.deepEqual(drift.missing, [], 'columns in src/privacy/inventory.ts that the database does not have');
});

test('the drift check notices a new, unclassified column (the guard can fail)', async () => {
  await sql`create table bookings (id integer primary key, client_email text)`.execute(db);
  await sql`alter table staff add column phone text`.execute(db);
  try {
    const drift = await schemaDrift(db);
    assert.deepEqual(drift.unclassified.sort(), ['bookings.client_email', 'bookings.id', 'staff.phone']);
  } finally {
    await sql`drop table bookings`.execute(db);
    await sql`alter table staff drop column phone`.execute(db);
  }
  assert.deepEqual((await schemaDrift(db)).unclassified, []);
});

test('no table for bookings or clients, and client-looking columns are not there', async () => {
  const live = await readSchema(db);
  for (const t of live) {
    assert.doesNotMatch(t.table, /booking|client|appointment|attendee|log/i, t.table);
    for (const c of t.columns) assert.doesNotMatch(c, /(^|_)(phone|ip|address|note|attendee|client)(_|$)/i, `${t.table}.${c}`);
  }
});

test('every table text and class exists in every language; the cookies are exactly those of src/web/cookies.ts', async () => {
  const i18n = await createI18n('en');
  for (const lng of LOCALES) {
    const has = (key: string) => i18n.exists(`privacy:${key}`, { lng, fallbackLng: false });
    for (const e of INVENTORY) {
      assert.ok(has(e.purposeKey), `${lng} ${e.purposeKey}`);
      assert.ok(has(e.retentionKey), `${lng} ${e.retentionKey}`);
      assert.ok(has(`basis.${e.basis}`), `${lng} basis.${e.basis}`);
    }
    for (const c of DATA_CLASSES) assert.ok(has(`classes.${c}`), `${lng} classes.${c}`);
    for (const c of COOKIES) assert.ok(has(c.purposeKey), `${lng} ${c.purposeKey}`);
  }
  assert.deepEqual(COOKIES.map((c) => c.name), [...COOKIE_BASE_NAMES]);
  assert.ok(COOKIES.length <= 4, 'never more than four cookie names (DESIGN.md §1.3)');
  assert.deepEqual(COOKIES.filter((c) => c.who !== 'staff').map((c) => c.name), ['lang'], 'a client can only ever get the lang cookie');
});
