// A whole Creneau for end-to-end tests: real SQLite in a temp dir, the real app on a random
// port, a real Radicale (or the Google stand-in), a real SMTP sink, one staff member with one
// service and a connected calendar.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import PostalMime from 'postal-mime';
import { DateTime } from 'luxon';
import { createApp } from '../../src/app.js';
import { boot } from '../../src/boot.js';
import { loadConfig } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import type { MicroCache } from '../../src/web/microcache.js';
import { insertStaff } from '../../src/accounts/accounts.repo.js';
import { insertService, type ServiceWrite } from '../../src/catalog/catalog.repo.js';
import { defaultFields } from '../../src/catalog/catalog.js';
import type { ServiceRules } from '../../src/availability/slots.js';
import { startRadicale, type RadicaleServer } from './radicale.js';
import type { DavServer } from './dav-server.js';
import { googleEnv, startGoogleStandin } from './google-standin.js';

export interface Mail {
  readonly raw: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly ics: string | null;
  readonly method: string | null;
}

export interface SmtpSink {
  readonly url: string;
  readonly mails: Mail[];
  /** Messages offered, refused ones included. */
  attempts(): number;
  waitFor(n: number, timeoutMs?: number): Promise<Mail[]>;
  stop(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 that keeps what arrives (parsed) in memory; with `refuse`,
 * the first `refuse.count` messages are answered with `refuse.code` (421/451 passing, 550 final).
 */
export async function startSmtpSink(refuse: { count: number; code: number } = { count: 0, code: 0 }): Promise<SmtpSink> {
  const mails: Mail[] = [];
  let attempts = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        attempts += 1;
        if (attempts <= refuse.count) {
          callback(Object.assign(new Error('try again later'), { responseCode: refuse.code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        void PostalMime.parse(raw).then((m) => {
          const cal = m.attachments.find((a) => a.mimeType.startsWith('text/calendar') || a.filename?.endsWith('.ics'));
          const ics = cal ? (typeof cal.content === 'string' ? cal.content : Buffer.from(cal.content as ArrayBuffer).toString('utf8')) : null;
          mails.push({
            raw,
            to: m.to?.map((t) => t.address ?? '').join(',') ?? '',
            subject: m.subject ?? '',
            text: m.text ?? '',
            ics,
            method: ics ? (/^METHOD:(\w+)/m.exec(ics)?.[1] ?? null) : null,
          });
          callback();
        });
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}/?ignoreTLS=true`,
    mails,
    attempts: () => attempts,
    waitFor: async (n, timeoutMs = 5000) => {
      const until = Date.now() + timeoutMs;
      while (mails.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      return mails;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const STAFF_ZONE = 'Europe/Paris';

/** Open every day 09:00–17:00, 30-minute slots, no notice, so tests always find slots tomorrow. */
export function openRules(over: Partial<ServiceRules> = {}): ServiceRules {
  const day: [string, string][] = [['09:00', '17:00']];
  return {
    durationMinutes: 30,
    stepMinutes: 30,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    minimumNoticeMinutes: 0,
    horizonDays: 30,
    dailyCap: null,
    hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
    overrides: [],
    ...over,
  };
}

/** An instant at `hh:mm` on the day after tomorrow in the staff zone (always bookable). */
export function soon(hhmm: string, daysAhead = 2): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return DateTime.now().setZone(STAFF_ZONE).plus({ days: daysAhead }).set({ hour: h, minute: m, second: 0, millisecond: 0 }).toMillis();
}

/** The instant as the slots JSON and the booking form write it. */
export function iso(ms: number, tz = STAFF_ZONE): string {
  return DateTime.fromMillis(ms, { zone: tz }).toISO({ suppressMilliseconds: true }) ?? '';
}

export interface World {
  readonly url: string;
  readonly deps: Deps;
  readonly staffId: number;
  readonly smtp: SmtpSink;
  readonly radicale: RadicaleServer | null;
  /** The CalDAV server the staff member is connected to (Radicale, or the one given). */
  readonly dav: DavServer | null;
  readonly calendarUrl: string | null;
  readonly google: Awaited<ReturnType<typeof startGoogleStandin>> | null;
  /** The public pages' micro-cache (its hit count shows what was replayed). */
  readonly pageCache: MicroCache;
  addService(slug: string, rules: ServiceRules, extra?: Partial<ServiceWrite>): Promise<number>;
  /** Stops everything and removes the data folder, unless `keepData` (then its caller removes it). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts everything; `provider` picks Radicale (CalDAV, iMIP through the SMTP sink) or the Google
 * stand-in. A `dav` server or `smtp` sink passed in (another CalDAV server, a sink that server
 * also mails to) is used instead and left running by stop(): its owner stops it.
 */
export async function startWorld(
  opts: { provider?: 'caldav' | 'google'; env?: Record<string, string>; log?: Deps['log']; dav?: DavServer; smtp?: SmtpSink; staffEmail?: string } = {},
): Promise<World> {
  const provider = opts.provider ?? 'caldav';
  const smtp = opts.smtp ?? (await startSmtpSink());
  const radicale = provider === 'caldav' && !opts.dav ? await startRadicale() : null;
  const dav: DavServer | null = opts.dav ?? radicale;
  const google = provider === 'google' ? await startGoogleStandin() : null;
  const dataDir = mkdtempSync(join(tmpdir(), 'creneau-world-'));
  const env: Record<string, string> = {
    CRENEAU_DATA_DIR: dataDir,
    CRENEAU_TRUST_PROXY: 'on',
    CRENEAU_LOG: 'off',
    CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1',
    CRENEAU_SMTP_URL: smtp.url,
    CRENEAU_MAIL_FROM: 'Creneau <booking@creneau.test>',
    ...(google ? googleEnv(google) : {}),
    ...opts.env,
  };
  // The base URL must be known before the app starts: take a port first, then listen on it.
  const probe = (await import('node:net')).createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({ CRENEAU_BASE_URL: url, ...env });
  const deps = await boot(config, opts.log ? { log: opts.log } : {});
  const { handler, ctx } = createApp(deps);
  const server = createServer(handler).listen(port, '127.0.0.1');
  // Longer than any pause in a test, so a kept-alive socket is never closed under a request.
  server.keepAliveTimeout = 120_000;
  await new Promise((r) => server.once('listening', r));
  const now = Date.now();
  const staffId = await insertStaff(
    deps.db,
    { username: 'alice', displayName: 'Alice Martin', email: opts.staffEmail ?? 'alice@salon.test', passwordHash: null, locale: 'en', timeZone: STAFF_ZONE, isOwner: true },
    now,
  );
  let calendarUrl: string | null = null;
  if (dav) {
    calendarUrl = await dav.makeCalendar('bookings', 'Bookings');
    const res = await deps.calendars.connectCaldav(staffId, { url: dav.url, username: dav.username, password: dav.password, booking: 'Bookings' });
    if (!res.ok) throw new Error(`could not connect the test CalDAV server: ${res.error.code}`);
  } else if (google) {
    const refreshToken = google.state.issueRefreshToken();
    const res = await deps.calendars.connectGoogle(staffId, { refreshToken, email: 'alice@salon.test' });
    if (!res.ok) throw new Error(`could not connect the Google stand-in: ${res.error.code}`);
  }
  const world: World = {
    url,
    deps,
    staffId,
    smtp,
    radicale,
    dav,
    calendarUrl,
    google,
    pageCache: ctx.pageCache,
    addService: (slug, rules, extra = {}) =>
      insertService(
        deps.db,
        staffId,
        { slug, title: extra.title ?? `Service ${slug}`, description: '', location: '', rules, fields: defaultFields(), active: true, ...extra },
        Date.now(),
      ),
    stop: async ({ keepData = false } = {}) => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await deps.db.destroy();
      if (!opts.smtp) await smtp.stop();
      await radicale?.stop();
      await google?.stop();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await world.addService('haircut', openRules(), { title: 'Haircut' });
  return world;
}

let clientAddress = 0;

/**
 * Posts a form like a browser (urlencoded), without following the redirect. Each call comes
 * from its own documentation-range address (through CRENEAU_TRUST_PROXY), as real clients
 * would, so the per-address rate limit does not throttle a whole test file.
 */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  clientAddress = (clientAddress + 1) % 65_000;
  const forwarded = `2001:db8::${clientAddress.toString(16)}`;
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual', headers: { 'x-forwarded-for': forwarded, ...headers } });
}

/** Opens the booking form for a slot and returns its hidden fields. */
export async function openForm(world: World, service: string, start: number, tz = STAFF_ZONE): Promise<Record<string, string>> {
  const res = await fetch(`${world.url}/@alice/${service}?tz=${encodeURIComponent(tz)}&start=${encodeURIComponent(iso(start, tz))}`);
  const html = await res.text();
  const token = /name="form_token" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no booking form for ${iso(start, tz)} (status ${res.status})`);
  return { start: iso(start, tz), tz, form_token: token };
}

/** A complete client for the booking form. */
export function client(n: number | string, over: Record<string, string> = {}): Record<string, string> {
  return { first_name: `Client${n}`, last_name: 'Test', email: `client${n}@example.com`, phone: '+33 6 12 34 56 78', ...over };
}
