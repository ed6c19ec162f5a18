import assert from 'node:assert/strict';
import { statSync, chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { insertStaff } from '../accounts/accounts.repo.js';
import { replaceConnection } from '../calendars/connection.repo.js';
import { runCli } from '../../scripts/test-support/cli.js';



interface AuditJson {
  format: string;
  verdict: 'ok' | 'warn' | 'fail';
  checks: { id: string; status: string; message: string }[];
  logMode: string;
  tables: { table: string; rows: number | null; columns: Record<string, string>; retention: string }[];
  cookies: { name: string; who: string }[];
  outboundHosts: string[];
  reminderScan: { enabled: boolean; intervalSeconds: number; recordedOn: string };
  files: { dataDir: { mode: string }; key: { source: string; mode: string | null } };
}

describe('creneau audit', () => {
  let root: string;
  let dataDir: string;
  let app: TestApp;
  let base: Record<string, string>;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'creneau-audit-'));
    dataDir = join(root, 'data');
    base = {
      CRENEAU_DATA_DIR: dataDir,
      CRENEAU_LOG: 'errors',
      CRENEAU_SMTP_URL: 'smtps://mailuser:SmtpPassw0rd@smtp.mail-provider.test:465',
      CRENEAU_OIDC_ISSUER: 'https://sso.identity-provider.test/application/o/creneau/',
      CRENEAU_OIDC_CLIENT_ID: 'creneau',
      CRENEAU_OIDC_CLIENT_SECRET: 'OidcClientS3cret',
      CRENEAU_MAIL_FROM: 'booking@salon.test',
    };
    app = await startTestApp(base);
    const id = await insertStaff(
      app.deps.db,
      { username: 'alice', displayName: 'Alice', email: 'alice@salon.test', passwordHash: null, locale: 'en', timeZone: 'Europe/Paris', isOwner: true },
      Date.now(),
    );
    await replaceConnection(
      app.deps.db,
      { staffId: id, provider: 'caldav', url: 'https://davuser:inlinepw@dav.calendar-host.test/dav/alice-private/', username: 'alice-dav-login', bookingCalendar: 'b', conflictCalendars: [], serverSchedules: false },
      () => 'v1.sealed-secret-value',
      Date.now(),
    );
  });
  after(async () => {
    await app.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('--json: stable keys, row counts, cookies, outbound hosts (hosts only), verdict ok and exit 0', async () => {
    const { code, out } = await runCli(['audit', '--json'], base);
    const r = JSON.parse(out) as AuditJson;
    assert.equal(code, 0, out);
    assert.equal(r.format, 'creneau-audit/1');
    assert.equal(r.verdict, 'ok', JSON.stringify(r.checks));
    assert.equal(r.logMode, 'errors');
    assert.equal(r.tables.find((t) => t.table === 'staff')?.rows, 1);
    assert.equal(r.tables.find((t) => t.table === 'calendar_connections')?.columns.secret_sealed, 'credential-sealed');
    assert.ok(r.tables.some((t) => t.table === 'kysely_migration'));
    assert.deepEqual(r.cookies.map((c) => c.name), ['creneau_session', 'creneau_remember', 'creneau_lang', 'creneau_signin']);
    assert.deepEqual(r.outboundHosts, ['dav.calendar-host.test', 'smtp.mail-provider.test', 'sso.identity-provider.test']);
    assert.deepEqual(r.reminderScan, { enabled: true, intervalSeconds: 60, recordedOn: 'the calendar event (X-CRENEAU-REMINDED / Google private property)' });
    assert.equal(r.files.key.source, 'file');
    assert.equal(r.files.key.mode, '0600');
    for (const secret of ['OidcClientS3cret', 'SmtpPassw0rd', 'mailuser', 'inlinepw', 'davuser', 'alice-private', 'alice-dav-login', 'sealed-secret-value', 'alice@salon.test']) {
      assert.ok(!out.includes(secret), `the audit printed ${secret}`);
    }
  });

  test('text output: the inventory, the log mode and a verdict line', async () => {
    const { code, out } = await runCli(['audit'], base);
    assert.equal(code, 0);
    assert.match(out, /calendar_connections: 1 row\(s\)/);
    assert.match(out, /credential-sealed: secret_sealed/);
    assert.match(out, /Log mode: errors/);
    assert.match(out, /^Reminder scan: every 60 s, .*"sent" is recorded on the calendar event .*nothing is stored here\.$/m);
    assert.match(out, /^E-mails sent \(SMTP only\): .*reminders, opt-in links, approval requests and answers.*only to the client and the staff member\.$/m);
    assert.match(out, /^ {2}dav\.calendar-host\.test$/m);
    assert.match(out, /^Verdict: OK — nothing wrong found$/m);
  });

  test('CRENEAU_LOG=debug fails the audit', async () => {
    const { code, out } = await runCli(['audit'], { ...base, CRENEAU_LOG: 'debug' });
    assert.equal(code, 1);
    assert.match(out, /\[FAIL\] log: CRENEAU_LOG=debug/);
    assert.match(out, /^Verdict: PROBLEMS FOUND/m);
  });

  test('a key file readable by others fails; so does a data directory others can read', async () => {
    const key = join(dataDir, 'secret.key');
    chmodSync(key, 0o644);
    try {
      const { code, out } = await runCli(['audit', '--json'], base);
      assert.equal(code, 1);
      const r = JSON.parse(out) as AuditJson;
      assert.equal(r.checks.find((c) => c.id === 'key')?.status, 'fail');
      assert.match(r.checks.find((c) => c.id === 'key')?.message ?? '', /chmod 600/);
    } finally {
      chmodSync(key, 0o600);
    }
    chmodSync(dataDir, 0o755);
    // Creneau creates its database 0600; a file restored by hand may come back 0644.
    const dbFile = join(dataDir, 'creneau.sqlite');
    chmodSync(dbFile, 0o644);
    try {
      const { code, out } = await runCli(['audit', '--json'], base);
      assert.equal(code, 1);
      const r = JSON.parse(out) as AuditJson;
      assert.equal(r.checks.find((c) => c.id === 'data-dir')?.status, 'fail');
      assert.equal(r.checks.find((c) => c.id === 'database')?.status, 'ok', 'opening the database makes it owner-only again');
      assert.equal(statSync(dbFile).mode & 0o777, 0o600);
    } finally {
      chmodSync(dataDir, 0o700);
      chmodSync(dbFile, 0o600);
    }
    assert.equal((await runCli(['audit'], base)).code, 0, 'back to ok once fixed');
  });

  test('Google configured: its API hosts are listed as outbound', async () => {
    const { code, out } = await runCli(['audit', '--json'], { ...base, CRENEAU_GOOGLE_CLIENT_ID: 'cid', CRENEAU_GOOGLE_CLIENT_SECRET: 'GoogleSecretValue' });
    assert.equal(code, 0);
    const r = JSON.parse(out) as AuditJson;
    for (const h of ['oauth2.googleapis.com', 'openidconnect.googleapis.com', 'www.googleapis.com']) assert.ok(r.outboundHosts.includes(h), h);
    assert.ok(!out.includes('GoogleSecretValue'));
  });

  test('no database yet: a clear error and exit 1, and nothing is created', async () => {
    const empty = join(root, 'nothing-here');
    const { code, err } = await runCli(['audit'], { CRENEAU_DATA_DIR: empty });
    assert.equal(code, 1);
    assert.match(err, /no database at .*nothing-here/);
    assert.equal(existsSync(empty), false);
  });
});
