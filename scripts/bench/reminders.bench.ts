// The cost of one reminder scan (issue 16): 20 staff members, each with a Radicale calendar of
// 1,500 Creneau bookings over 60 days and a service that reminds a day and two hours before.
// Calendar requests are counted by a pass-through HTTP counter in front of Radicale. The
// 30,000 events are written straight into Radicale's storage folder (PUTting them one by one
// or as whole calendars takes far longer than the scans measured); Radicale builds its item
// cache on the first read, so the first scan is "cold" and the next ones "warm".
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot } from '../../src/boot.js';
import { loadConfig } from '../../src/config.js';
import { insertStaff } from '../../src/accounts/accounts.repo.js';
import { insertService } from '../../src/catalog/catalog.repo.js';
import { defaultFields } from '../../src/catalog/catalog.js';
import { buildBookingIcs } from '../../src/calendars/ics.js';
import { base32hex } from '../../src/crypto/token.js';
import { ReminderScan } from '../../src/reminders/reminder.service.js';
import { startRadicale } from '../test-support/radicale.js';
import { openRules, startSmtpSink } from '../test-support/world.js';

const STAFF = 20;
const EVENTS = 1500;
const DAYS = 60;
const LEADS = [1440, 120];
const MIN = 60_000;

/** Forwards every request to Radicale and counts them (method → count). */
async function counter(target: string): Promise<{ url: string; counts: Map<string, number>; stop(): Promise<void> }> {
  const counts = new Map<string, number>();
  const t = new URL(target);
  const server = createServer((req, res) => {
    counts.set(req.method ?? '?', (counts.get(req.method ?? '?') ?? 0) + 1);
    const up = httpRequest({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, counts, stop: () => new Promise((r) => server.close(() => r())) };
}

export async function run(): Promise<string> {
  const radicale = await startRadicale();
  const proxy = await counter(radicale.url);
  const smtp = await startSmtpSink();
  const dataDir = mkdtempSync(join(tmpdir(), 'creneau-bench-rem-'));
  const config = loadConfig({ CRENEAU_DATA_DIR: dataDir, CRENEAU_LOG: 'off', CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1', CRENEAU_SMTP_URL: smtp.url, CRENEAU_MAIL_FROM: 'b@creneau.test' });
  const deps = await boot(config);
  const t0 = Date.UTC(2027, 0, 4, 0, 0);
  try {
    for (let s = 0; s < STAFF; s++) {
      const staffId = await insertStaff(deps.db, { username: `s${s}`, displayName: `Staff ${s}`, email: `s${s}@salon.test`, passwordHash: null, locale: 'en', timeZone: 'Europe/Paris', isOwner: s === 0 }, t0 - 90 * 1440 * MIN);
      await insertService(deps.db, staffId, { slug: 'massage', title: 'Massage', description: '', location: '', rules: openRules(), fields: defaultFields(), active: true, reminders: LEADS }, t0);
      await radicale.makeCalendar(`cal${s}`, `Bookings ${s}`);
      const folder = join(radicale.folder, radicale.username, `cal${s}`);
      for (let i = 0; i < EVENTS; i++) {
        const start = t0 + Math.floor((i * DAYS * 1440 * MIN) / EVENTS / (30 * MIN)) * 30 * MIN + 9 * 60 * MIN;
        const id = base32hex(Buffer.from(`${s}-${i}`.padEnd(16, '.')));
        const ics = buildBookingIcs(
          { id, start, end: start + 30 * MIN, timeZone: 'Europe/Paris', summary: `Massage — C${i}`, description: 'Recap', location: '', organizer: { name: `Staff ${s}`, email: `s${s}@salon.test` }, attendee: { name: `C${i}`, email: `c${i}@example.com` }, serviceSlug: 'massage', lang: 'en' },
          { uidHost: 'creneau.test', sequence: 0, status: 'CONFIRMED', stamp: t0 - 30 * 1440 * MIN },
        );
        writeFileSync(join(folder, `${id}.ics`), ics);
      }
      const r = await deps.calendars.connectCaldav(staffId, { url: new URL(`/${radicale.username}/cal${s}/`, proxy.url).href, username: radicale.username, password: radicale.password, booking: `Bookings ${s}` });
      if (!r.ok) throw new Error(`connect ${s}: ${r.error.code}`);
    }
    const rows: string[] = [];
    // Before any reminder is due (the first booking starts at t0 + 9 h: its day-before reminder
    // falls due at t0 − 15 h), twice (Radicale's cache cold, then warm); the minute the first
    // booking of every calendar falls due (20 reminders: claim, e-mail, mark); the same minute again.
    const firstDue = t0 + 9 * 60 * MIN - 1440 * MIN;
    for (const [label, at] of [
      ['nothing due, Radicale cache cold (read only)', firstDue - 60 * MIN],
      ['nothing due, warm (read only)', firstDue - 59 * MIN],
      ['20 reminders due (one per calendar)', firstDue + MIN],
      ['the same minute again (all sent)', firstDue + 2 * MIN],
    ] as const) {
      proxy.counts.clear();
      const scan = new ReminderScan({ ...deps, clock: { now: () => at } }, {});
      const began = performance.now();
      const report = await scan.scanOnce();
      const ms = performance.now() - began;
      const total = [...proxy.counts.values()].reduce((a, b) => a + b, 0);
      const by = [...proxy.counts.entries()].map(([m, n]) => `${m} ${n}`).join(', ');
      rows.push(`| ${label} | ${ms.toFixed(0)} ms | ${total} (${by}) | ${report.sent} |`);
    }
    return [
      '## Reminder scan (20 calendars × 1,500 events, Radicale)',
      '',
      `${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), shared with other engineers' test runs while measured. One scan over ${STAFF} staff calendars of ${EVENTS} Creneau bookings each (${DAYS} days), reminders ${LEADS.join(' and ')} minutes before; loopback Radicale, SMTP sink. Requests counted in front of Radicale.`,
      '',
      '| Scan | Time | Calendar requests | Reminders sent |',
      '|---|---|---|---|',
      ...rows,
    ].join('\n');
  } finally {
    await deps.db.destroy();
    await proxy.stop();
    await smtp.stop();
    await radicale.stop();
  }
}
