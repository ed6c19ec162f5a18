import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tryBoot } from '../boot.js';
import { ok } from '../lib/result.js';
import type { Config } from '../config.js';
import { KEY_FILE, keyFileTooOpen } from '../crypto/keyring.js';
import { DB_FILE } from '../db/database.js';
import { columnsByClass } from '../privacy/inventory.js';
import { countRows } from '../privacy/privacy.repo.js';
import { outboundHosts, privacyFacts, schemaDrift } from '../privacy/privacy.service.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

export const help = `Usage: creneau audit [--json]

Prints what this installation stores and where it talks to, from the live database and
configuration: every table and column with its class, purpose and retention, and the number
of rows; the cookies; the log mode; the outbound hosts configured (hosts only, never
credentials); the secret key and the file permissions of the data directory; then a verdict.

  --json   the same as JSON with stable keys (format "creneau-audit/1"), for scripts

Exit code: 0 when nothing is wrong (warnings included), 1 when a check fails (for example
CRENEAU_LOG=debug, a key file readable by group or others, a world-readable data directory).
It reads only: it refuses to run where no database exists yet.`;

type Status = 'ok' | 'warn' | 'fail';

interface Check {
  readonly id: string;
  readonly status: Status;
  readonly message: string;
}

/** File mode as four octal digits, or null when absent. */
function modeOf(path: string): string | null {
  return existsSync(path) ? (statSync(path).mode & 0o7777).toString(8).padStart(4, '0') : null;
}

/** Builds the whole audit report (also what --json prints). */
export async function audit(config: Config) {
  const dbPath = join(config.dataDir, DB_FILE);
  if (!existsSync(dbPath)) return fail('not-found', `no database at ${dbPath}; nothing is stored yet (check CRENEAU_DATA_DIR)`);
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
  try {
    const en = deps.i18n.getFixedT('en');
    const facts = await privacyFacts(config, deps.db);
    const drift = await schemaDrift(deps.db);
    const tables = [];
    for (const e of facts.inventory) {
      tables.push({
        table: e.table,
        rows: await countRows(deps.db, e.table).catch(() => null),
        purpose: en(`privacy:${e.purposeKey}`),
        legalBasis: e.basis,
        retention: en(`privacy:${e.retentionKey}`),
        columns: { ...e.columns },
      });
    }
    const checks: Check[] = [];
    const check = (id: string, status: Status, message: string) => checks.push({ id, status, message });

    check(
      'schema',
      drift.unclassified.length + drift.missing.length === 0 ? 'ok' : 'fail',
      drift.unclassified.length + drift.missing.length === 0
        ? 'every column of the database is classified'
        : `not classified: ${drift.unclassified.join(', ') || '-'}; classified but absent: ${drift.missing.join(', ') || '-'}`,
    );
    check(
      'log',
      config.log === 'debug' ? 'fail' : 'ok',
      config.log === 'debug'
        ? 'CRENEAU_LOG=debug: troubleshooting output is on (the privacy page says so); set CRENEAU_LOG=errors or off when done'
        : `CRENEAU_LOG=${config.log}`,
    );

    const keyPath = join(config.dataDir, KEY_FILE);
    const key = { source: config.secretKeySource === 'generated' ? 'file' : 'environment', path: config.secretKeySource === 'generated' ? keyPath : null, mode: null as string | null };
    if (config.secretKeySource === 'generated') {
      key.mode = modeOf(keyPath);
      if (key.mode === null) check('key', 'fail', `${keyPath} is missing`);
      else if (keyFileTooOpen(keyPath)) check('key', 'fail', `${keyPath} has mode ${key.mode}; run: chmod 600 ${keyPath}`);
      else check('key', 'ok', `${keyPath} has mode ${key.mode}`);
    } else {
      check('key', 'ok', `the master key comes from CRENEAU_SECRET_KEY${config.secretKeySource === 'file' ? '_FILE' : ''}`);
      if (existsSync(keyPath)) check('stale-key', 'warn', `${keyPath} exists but is not used; move it away after checking it is not needed`);
    }

    const dirMode = modeOf(config.dataDir) ?? '0000';
    const dirBits = parseInt(dirMode, 8);
    if (dirBits & 0o007) check('data-dir', 'fail', `${config.dataDir} has mode ${dirMode}: other users can reach it; run: chmod 700 ${config.dataDir}`);
    else if (dirBits & 0o070) check('data-dir', 'warn', `${config.dataDir} has mode ${dirMode}: its group can reach it; 0700 is better`);
    else check('data-dir', 'ok', `${config.dataDir} has mode ${dirMode}`);

    // A file is exposed only if its own mode AND the directory let someone else in.
    const dbFiles = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`].map((f) => ({ path: join(config.dataDir, f), mode: modeOf(join(config.dataDir, f)) })).filter((f) => f.mode !== null);
    const bits = (f: { mode: string | null }) => parseInt(f.mode ?? '0', 8);
    const toOthers = dbFiles.filter((f) => dirBits & 0o001 && bits(f) & 0o004);
    const toGroup = dbFiles.filter((f) => dirBits & 0o010 && bits(f) & 0o040);
    const list = (fs: typeof dbFiles) => fs.map((f) => `${f.path} (${f.mode ?? ''})`).join(', ');
    if (toOthers.length > 0) check('database', 'fail', `readable by any user of this machine: ${list(toOthers)}; run: chmod 700 ${config.dataDir}`);
    else if (toGroup.length > 0) check('database', 'warn', `readable by the directory's group: ${list(toGroup)}`);
    else check('database', 'ok', `${dbPath} (mode ${modeOf(dbPath) ?? '?'}${dirBits & 0o077 ? '' : ', in a private directory'}) is not readable by other users`);

    const hosts = outboundHosts(config, facts.thirdParties);
    if (facts.thirdParties.google && !config.google) {
      check('google', 'warn', `${facts.thirdParties.google.connections} Google connection(s) but Google is not configured: those calendars are unavailable`);
    }
    const verdict: Status = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'ok';
    return ok({
      format: 'creneau-audit/1',
      verdict,
      checks,
      logMode: config.log,
      tables,
      cookies: facts.cookies.map((c) => ({ name: c.realName, who: c.who, maxAgeSeconds: c.maxAgeSeconds, purpose: en(`privacy:${c.purposeKey}`) })),
      outboundHosts: hosts,
      // Reminders are e-mailed only through SMTP; "sent" lives on the calendar event, not here.
      reminderScan: { enabled: config.smtp !== null, intervalSeconds: config.reminderIntervalMs / 1000, recordedOn: 'the calendar event (X-CRENEAU-REMINDED / Google private property)' },
      thirdParties: { google: facts.thirdParties.google, smtpHost: facts.thirdParties.smtpHost, caldavHosts: facts.thirdParties.caldavHosts, oidcHost: facts.thirdParties.oidcHost },
      files: { dataDir: { path: config.dataDir, mode: dirMode }, database: dbFiles, key },
    });
  } finally {
    await deps.db.destroy();
  }
}

type Report = Extract<Awaited<ReturnType<typeof audit>>, { ok: true }>['value'];

const MARK: Record<Status, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

function text(r: Report): string {
  const out: string[] = ['Creneau privacy audit', '', 'Stored (table: rows — columns by class; retention):'];
  for (const t of r.tables) {
    out.push(`  ${t.table}: ${t.rows ?? '?'} row(s) — ${t.purpose}`);
    for (const g of columnsByClass({ table: t.table, purposeKey: '', basis: t.legalBasis, retentionKey: '', columns: t.columns })) out.push(`      ${g.cls}: ${g.columns.join(', ')}`);
    out.push(`      legal basis: ${t.legalBasis}; kept: ${t.retention}`);
  }
  out.push('  Not stored: bookings, client names, e-mails, phones, notes, addresses, IP addresses, requests.', '');
  out.push('Cookies:');
  for (const c of r.cookies) out.push(`  ${c.name} (${c.who === 'staff' ? 'signed-in staff only' : 'only after an explicit language choice'}; ${c.maxAgeSeconds === null ? 'browser session' : c.maxAgeSeconds < 86400 ? `${Math.round(c.maxAgeSeconds / 60)} minutes` : `${Math.round(c.maxAgeSeconds / 86400)} days`}): ${c.purpose}`);
  out.push('', `Log mode: ${r.logMode}`, '');
  out.push(
    r.reminderScan.enabled
      ? `Reminder scan: every ${r.reminderScan.intervalSeconds} s, reads the coming appointments of services with reminders from their calendars and e-mails each due reminder once; "sent" is recorded on ${r.reminderScan.recordedOn}, nothing is stored here.`
      : 'Reminder scan: off (no SMTP configured: no reminder, confirmation or approval e-mail can be sent).',
    'E-mails sent (SMTP only): invitations and cancellations (CalDAV servers that do not send them), reminders, opt-in links, approval requests and answers, staff invitations; only to the client and the staff member.',
    '',
    'Outbound hosts configured:',
  );
  if (r.outboundHosts.length === 0) out.push('  (none: this server contacts nobody)');
  for (const h of r.outboundHosts) out.push(`  ${h}`);
  out.push('', 'Checks:');
  for (const c of r.checks) out.push(`  [${MARK[c.status]}] ${c.id}: ${c.message}`);
  const verdict = r.verdict === 'ok' ? 'OK — nothing wrong found' : r.verdict === 'warn' ? 'OK with warnings — see WARN above' : 'PROBLEMS FOUND — see FAIL above';
  out.push('', `Verdict: ${verdict}`);
  return out.join('\n');
}

/** `creneau audit [--json]`: exit 1 when a check fails. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, { json: { type: 'boolean' } });
  if (!parsed.ok) return parsed;
  const { values } = parsed.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  const audited = await audit(config);
  if (!audited.ok) return audited;
  const report = audited.value;
  process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : text(report)}\n`);
  return report.verdict === 'fail' ? fail('check-failed') : done;
}
