// Data-at-rest proof (DESIGN.md §1.1): a scripted session against a whole Creneau (real SQLite,
// Radicale, SMTP sink) with canary values in every client field, forced errors, a backup into
// the data directory — then every file of the data directory and every captured log line is
// scanned for the canaries, as UTF-8 and UTF-16LE bytes. Also proves the canaries reached the
// calendar, so the check cannot pass vacuously. Exit 1 on any hit.
//
//   npm run privacy-check
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { iso, openForm, openRules, postForm, soon, startWorld, type World } from './test-support/world.js';
import { Browser, hiddenValue } from './test-support/app.js';
import { createLogger } from '../src/lib/log.js';
import { hashPassword } from '../src/accounts/password.js';
import { setPasswordHash } from '../src/accounts/accounts.repo.js';
import { main } from '../src/main.js';
import { ReminderScan } from '../src/reminders/reminder.service.js';

export interface Hit {
  readonly where: string;
  readonly needle: string;
  readonly encoding: 'utf8' | 'utf16le';
}

export interface CheckResult {
  readonly hits: Hit[];
  readonly filesScanned: string[];
  readonly bytesScanned: number;
  readonly logLines: number;
  readonly bookings: number;
  readonly cancelled: number;
  readonly rescheduled: number;
  /** Issue #16: reminders e-mailed, requests approved or declined, bookings confirmed by their e-mailed link. */
  readonly reminders: number;
  readonly answeredRequests: number;
  readonly optIns: number;
  /** Canary values found in the calendar (Radicale): must be > 0. */
  readonly inCalendar: number;
  readonly forcedErrors: Record<string, number>;
  readonly report: string;
}

/** The stem every text canary starts with; searching for it catches partial leaks too. */
export const CANARY_STEM = 'canaryx7q';

/** Client details where every field carries a unique canary (phones: unique digit runs). */
export function canaryClient(n: number): { fields: Readonly<Record<string, string>>; needles: string[] } {
  const k = String(n).padStart(2, '0');
  const phone = `+33 7 81 42 ${k} 97`;
  const fields = {
    first_name: `${CANARY_STEM}f${k}Zoé`,
    last_name: `${CANARY_STEM}l${k}`,
    email: `${CANARY_STEM}e${k}@example.com`,
    phone,
    note: `${CANARY_STEM}n${k} please ring twice`,
    address: `${CANARY_STEM}a${k} 12 rue des Lilas`,
    company: `${CANARY_STEM}c${k} SARL`,
    job_title: `${CANARY_STEM}j${k}`,
    conference: `${CANARY_STEM}v${k}`,
  };
  return { fields, needles: [fields.first_name, fields.email, fields.note, phone, `3378142${k}97`] };
}

function needleForms(needle: string): { encoding: 'utf8' | 'utf16le'; bytes: Buffer }[] {
  return [
    { encoding: 'utf8', bytes: Buffer.from(needle, 'utf8') },
    { encoding: 'utf16le', bytes: Buffer.from(needle, 'utf16le') },
  ];
}

/** Case-insensitive (ASCII) search of `needles` in a byte buffer, as UTF-8 and UTF-16LE. */
export function scanBytes(where: string, data: Buffer, needles: readonly string[]): Hit[] {
  const hay = Buffer.from(data.toString('latin1').toLowerCase(), 'latin1');
  const hits: Hit[] = [];
  for (const needle of needles) {
    for (const form of needleForms(needle)) {
      const low = Buffer.from(form.bytes.toString('latin1').toLowerCase(), 'latin1');
      if (hay.includes(low)) hits.push({ where, needle, encoding: form.encoding });
    }
  }
  return hits;
}

/** Every regular file under `dir`. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out.sort();
}

async function calendarData(w: World): Promise<string> {
  if (!w.radicale || !w.calendarUrl) return '';
  const auth = `Basic ${Buffer.from(`${w.radicale.username}:${w.radicale.password}`).toString('base64')}`;
  const body = `<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`;
  const res = await fetch(w.calendarUrl, { method: 'REPORT', headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' }, body });
  if (res.status !== 207) throw new Error(`REPORT on the calendar answered ${res.status}`);
  // Unfold ICS lines so long values are searchable.
  return (await res.text()).replace(/\r?\n[ \t]/g, '');
}

/** Runs the scripted session and the scans; never throws for a hit (they are in `hits`). */
export async function runPrivacyCheck(): Promise<CheckResult> {
  const logLines: string[] = [];
  const log = createLogger('debug', (line) => logLines.push(line));
  // Anything else printed by the process during the session is captured too.
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  const tee = (orig: typeof process.stdout.write) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;

  const w = await startWorld({ log, env: { CRENEAU_LOG: 'debug' } });
  const dataDir = w.deps.config.dataDir;
  const forcedErrors: Record<string, number> = {};
  const expectStatus = (what: string, got: number, want: number) => {
    if (got !== want) throw new Error(`${what}: expected HTTP ${want}, got ${got}`);
    forcedErrors[what] = got;
  };
  let bookings = 0;
  let cancelled = 0;
  let rescheduled = 0;
  let inCalendar = 0;
  let reminders = 0;
  let answeredRequests = 0;
  let optIns = 0;
  const needles = new Set<string>([CANARY_STEM]);
  process.stdout.write = tee(origOut);
  process.stderr.write = tee(origErr);
  try {
    // Staff setup: a password, sign in, the staff pages, a service asking every field.
    const password = 'privacy check passphrase';
    await setPasswordHash(w.deps.db, w.staffId, await hashPassword(password), Date.now());
    const staff = new Browser(w.url);
    const login = await staff.get('/login');
    const signedIn = await staff.post('/login', { _form: hiddenValue(login.text, '_form'), login: 'alice', password, next: '' });
    if (signedIn.status !== 303) throw new Error(`staff sign-in answered ${signedIn.status}`);
    for (const p of ['/admin', '/admin/profile', '/admin/services', '/admin/data', '/admin/calendar']) await staff.get(p);
    await w.addService('full', openRules(), { title: 'Full form', fields: { note: 'optional', address: 'optional', company: 'optional', job_title: 'optional', conference: 'optional', phone: 'required' } });

    // 20 bookings, canaries in every field.
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { fields, needles: ns } = canaryClient(i);
      for (const n of ns) needles.add(n);
      const start = soon('09:00', 2 + Math.floor(i / 10)) + (i % 10) * 30 * 60_000;
      const hidden = await openForm(w, 'full', start);
      const res = await postForm(`${w.url}/@alice/full/book`, { ...hidden, ...fields });
      if (res.status !== 303) throw new Error(`booking ${i} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const token = /\/b\/([^?]+)/.exec(res.headers.get('location') ?? '')?.[1];
      if (!token) throw new Error(`booking ${i}: no token in the redirect`);
      tokens.push(token);
      bookings++;
      const page = await fetch(`${w.url}/b/${token}`);
      if (page.status !== 200) throw new Error(`confirmation page of booking ${i} answered ${page.status}`);
      await page.text();
    }
    // Cancel five, reschedule five.
    for (const token of tokens.slice(0, 5)) {
      const res = await postForm(`${w.url}/b/${token}/cancel`, {});
      if (res.status !== 303) throw new Error(`cancel answered ${res.status}`);
      cancelled++;
    }
    for (const [j, token] of tokens.slice(5, 10).entries()) {
      const res = await postForm(`${w.url}/b/${token}/reschedule`, { start: iso(soon('09:00', 5) + j * 30 * 60_000), tz: 'Europe/Paris' });
      if (res.status !== 303) throw new Error(`reschedule answered ${res.status}`);
      rescheduled++;
    }

    // Reminders, approval and double opt-in (issue #16), canaries in every field again.
    await w.addService('asked', openRules(), { title: 'Asked', approval: true, reminders: [1440], fields: { note: 'optional', address: 'optional', company: 'optional', job_title: 'optional', conference: 'optional', phone: 'required' } as const });
    await w.addService('checked', openRules(), { title: 'Checked', confirmEmail: true, fields: { note: 'optional', address: 'optional', company: 'optional', job_title: 'optional', conference: 'optional', phone: 'required' } as const });
    const linkIn = (to: string, path: string): string => {
      const mail = w.smtp.mails.find((m) => m.text.includes(to) && m.text.includes(`/${path}/`));
      const link = mail ? new RegExp(`https?://\\S+/${path}/\\S+`).exec(mail.text)?.[0] : undefined;
      if (!link) throw new Error(`no ${path} link for ${to}`);
      return new URL(link).pathname;
    };
    const asked: number[] = [];
    for (const [j, action] of (['approve', 'decline'] as const).entries()) {
      const { fields, needles: ns } = canaryClient(40 + j);
      for (const n of ns) needles.add(n);
      const start = soon('09:00', 7) + j * 30 * 60_000;
      asked.push(start);
      const res = await postForm(`${w.url}/@alice/asked/book`, { ...(await openForm(w, 'asked', start)), ...fields });
      if (res.status !== 303) throw new Error(`request ${j} answered ${res.status}`);
      await w.smtp.waitFor(w.smtp.mails.length + 1, 2000);
      await new Promise((r) => setTimeout(r, 200));
      const answer = await postForm(`${w.url}${linkIn(fields.email ?? '', action)}`, {});
      if (answer.status !== 200) throw new Error(`${action} answered ${answer.status}`);
      answeredRequests++;
    }
    const { fields: opt, needles: optNeedles } = canaryClient(50);
    for (const n of optNeedles) needles.add(n);
    const optRes = await postForm(`${w.url}/@alice/checked/book`, { ...(await openForm(w, 'checked', soon('12:00', 7))), ...opt });
    if (optRes.status !== 202) throw new Error(`the opt-in booking answered ${optRes.status}`);
    await new Promise((r) => setTimeout(r, 300));
    const confirmed = await postForm(`${w.url}${linkIn(opt.first_name ?? '', 'confirm')}`, {});
    if (confirmed.status !== 303) throw new Error(`the opt-in link answered ${confirmed.status}`);
    optIns++;
    const first = asked[0] ?? 0;
    const scan = await new ReminderScan({ ...w.deps, clock: { now: () => first - 1440 * 60_000 + 60_000 } }, {}).scanOnce();
    reminders = scan.sent;
    if (reminders === 0) throw new Error('the reminder scan sent nothing: the check would not cover it');

    // The canaries did reach the calendar (else this check would prove nothing).
    const ics = (await calendarData(w)).toLowerCase();
    for (let i = 5; i < 20; i++) {
      const { fields } = canaryClient(i);
      for (const v of [fields.first_name, fields.email, fields.note, fields.company]) if (v && ics.includes(v.toLowerCase())) inCalendar++;
    }
    if (inCalendar === 0) throw new Error('no canary reached the calendar: the check would pass vacuously');

    // Forced errors, with canaries in the requests.
    const { fields: bad } = canaryClient(90);
    for (const n of canaryClient(90).needles) needles.add(n);
    const hidden = await openForm(w, 'full', soon('09:00', 6));
    expectStatus('invalid form (422)', (await postForm(`${w.url}/@alice/full/book`, { ...hidden, ...bad, email: `${CANARY_STEM}-not-an-email` })).status, 422);
    expectStatus('forged form token (400)', (await postForm(`${w.url}/@alice/full/book`, { ...hidden, ...bad, form_token: `${CANARY_STEM}forged` })).status, 400);
    expectStatus('honeypot (400)', (await postForm(`${w.url}/@alice/full/book`, { ...hidden, ...bad, website: `${CANARY_STEM}bot` })).status, 400);
    expectStatus('unknown token (404)', (await fetch(`${w.url}/b/${CANARY_STEM}0000000000000000.AAAAAAAAAAAAAAAAAAAAAA`)).status, 404);
    const forged = `${tokens[12]?.split('.')[0] ?? ''}.${'A'.repeat(22)}`;
    expectStatus('forged token (404)', (await fetch(`${w.url}/b/${forged}`)).status, 404);
    expectStatus('cancelled booking (404)', (await fetch(`${w.url}/b/${tokens[0] ?? ''}`)).status, 404);
    expectStatus('bad slots query (400)', (await fetch(`${w.url}/@alice/full/slots?tz=${CANARY_STEM}/Zone`)).status, 400);
    expectStatus('unknown page (404)', (await fetch(`${w.url}/@alice/${CANARY_STEM}page`)).status, 404);
    expectStatus('cross-site POST (403)', (await postForm(`${w.url}/@alice/full/book`, { ...hidden, ...bad }, { origin: 'https://evil.example' })).status, 403);
    expectStatus('oversized form (413)', (await postForm(`${w.url}/@alice/full/book`, { ...hidden, ...bad, note: `${CANARY_STEM}${'x'.repeat(40_000)}` })).status, 413);
    // Calendar down: Radicale stopped; booking, the manage page and the picker answer 503.
    const late = await openForm(w, 'full', soon('10:00', 6));
    await w.radicale?.stop();
    expectStatus('calendar down: book (503)', (await postForm(`${w.url}/@alice/full/book`, { ...late, ...bad })).status, 503);
    expectStatus('calendar down: manage (503)', (await fetch(`${w.url}/b/${tokens[15] ?? ''}`)).status, 503);
    expectStatus('calendar down: slots (503)', (await fetch(`${w.url}/@alice/full/slots`)).status, 503);

    // A backup into the data directory, through the CLI.
    const code = await main(['backup', join(dataDir, 'backup-privacy-check.sqlite')], { CRENEAU_DATA_DIR: dataDir, CRENEAU_LOG: 'debug' });
    if (code !== 0) throw new Error(`creneau backup exited ${code}`);
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }

  // Scan while the server still holds the database (WAL and SHM present), then after closing.
  const hits: Hit[] = [];
  const scanned = new Set<string>();
  let bytesScanned = 0;
  const scanDir = (phase: string) => {
    for (const file of filesUnder(dataDir)) {
      const data = readFileSync(file);
      bytesScanned += data.length;
      scanned.add(relative(dataDir, file));
      hits.push(...scanBytes(`${phase}: ${relative(dataDir, file)}`, data, [...needles]));
    }
  };
  scanDir('running');
  await w.stop({ keepData: true });
  scanDir('stopped');
  hits.push(...scanBytes('captured logs and output', Buffer.from(logLines.join('\n'), 'utf8'), [...needles]));
  if (hits.length === 0) rmSync(dataDir, { recursive: true, force: true }); // kept for inspection on a hit

  const lines = [
    'Creneau privacy check (data at rest and logs)',
    `  session: ${bookings} bookings with canaries in every client field, ${cancelled} cancelled, ${rescheduled} rescheduled`,
    `  issue #16: ${reminders} reminder(s) e-mailed, ${answeredRequests} request(s) approved or declined, ${optIns} booking(s) confirmed by e-mail`,
    `  forced errors: ${Object.entries(forcedErrors).map(([k]) => k).join(', ')}`,
    `  canary values found in the calendar (expected): ${inCalendar}`,
    `  scanned: ${scanned.size} file(s) in the data directory (${[...scanned].join(', ')}), ${bytesScanned} bytes, twice (running, stopped); ${logLines.length} captured log/output chunk(s)`,
    `  needles: ${needles.size} (UTF-8 and UTF-16LE, case-insensitive)`,
    hits.length === 0 ? '  result: 0 canary hits — nothing a client typed is stored or logged' : `  result: ${hits.length} HIT(S):`,
    ...hits.map((h) => `    ${h.where}: ${h.needle} (${h.encoding})`),
  ];
  return { hits, filesScanned: [...scanned], bytesScanned, logLines: logLines.length, bookings, cancelled, rescheduled, reminders, answeredRequests, optIns, inCalendar, forcedErrors, report: lines.join('\n') };
}

const isEntry = process.argv[1] !== undefined && /privacy-check\.(ts|js|mjs)$/.test(process.argv[1]);
if (isEntry) {
  runPrivacyCheck().then(
    (r) => {
      console.log(r.report);
      process.exitCode = r.hits.length === 0 ? 0 : 1;
    },
    (err: unknown) => {
      console.error(`privacy-check could not complete: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 2;
    },
  );
}
