// Big calendars (issue #14 point 4): one booking's latency through the app (POST of the booking
// form, answered 303) on a Radicale calendar of 100 to 20,000 events, next to one raw PUT plus
// one raw time-range REPORT for the slot's day to the same Radicale in the same run; and
// uncached slot reads (a day never asked before) next to one raw REPORT for that day.
// The events are written straight into Radicale's folder (20,000 PUTs would take hours: each
// one costs Radicale time in proportion to the calendar), then Radicale reads them once.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { client, openForm, openRules, postForm, STAFF_ZONE, startWorld } from '../test-support/world.js';

/** Calendar sizes; `CRENEAU_BENCH_SIZES=100,1500` to run fewer. */
const SIZES = (process.env['CRENEAU_BENCH_SIZES'] ?? '100,1500,5000,20000').split(',').map(Number);
/** Bookings (and raw PUT + REPORT pairs) per size; uncached slot reads per size. */
const BOOKINGS = 5;
const SLOT_READS = 7;
/** Weekly series among the events (lunch, a standing meeting…), begun years ago. */
const SERIES = 10;

const stamp = (d: DateTime): string => d.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
const vevent = (uid: string, lines: string[]): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20240101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

/** The folder Radicale (started by the harness on `port`) keeps `calendarPath` in. */
function radicaleFolder(port: string, calendarPath: string): string {
  for (const d of readdirSync(tmpdir())) {
    if (!d.startsWith('creneau-radicale-')) continue;
    try {
      if (readFileSync(join(tmpdir(), d, 'config'), 'utf8').includes(`127.0.0.1:${port}\n`)) return join(tmpdir(), d, 'collections', 'collection-root', decodeURIComponent(calendarPath));
    } catch {
      // another run's folder being removed
    }
  }
  throw new Error(`no Radicale folder for port ${port}`);
}

/** `n` events of a business with years of history: five a day going back from yesterday, some weekly series. */
function seed(folder: string, n: number, now: DateTime): void {
  for (let i = 0; i < n; i++) {
    if (i < SERIES) {
      const first = now.minus({ years: 3 }).set({ hour: 12, minute: 0, second: 0, millisecond: 0 }).plus({ days: i % 5 });
      writeFileSync(join(folder, `series-${i}.ics`), vevent(`series-${i}`, [`DTSTART;TZID=${STAFF_ZONE}:${first.setZone(STAFF_ZONE).toFormat("yyyyMMdd'T'HHmmss")}`, 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY', `SUMMARY:Standing ${i}`]));
      continue;
    }
    const at = now.minus({ days: 1 + Math.floor(i / 5) }).set({ hour: 8 + (i % 5) * 2, minute: 0, second: 0, millisecond: 0 });
    writeFileSync(join(folder, `past-${i}.ics`), vevent(`past-${i}`, [`DTSTART:${stamp(at)}`, `DTEND:${stamp(at.plus({ hours: 1 }))}`, `SUMMARY:Client ${i}`, `DESCRIPTION:Notes about appointment ${i}`]));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, v];
}

interface Row {
  readonly size: number;
  readonly booked: number;
  readonly booking: number;
  readonly put: number;
  readonly report: number;
  readonly ratio: number;
  readonly slots: number;
  readonly slotsOk: number;
  readonly slotReport: number;
}

async function measure(size: number): Promise<Row> {
  const w = await startWorld();
  try {
    const calendarUrl = w.calendarUrl as string;
    const dav = w.dav;
    if (!dav) throw new Error('no CalDAV server');
    const auth = `Basic ${Buffer.from(`${dav.username}:${dav.password}`).toString('base64')}`;
    const now = DateTime.now().setZone(STAFF_ZONE);
    seed(radicaleFolder(new URL(dav.url).port, new URL(calendarUrl).pathname), size, now);
    const report = (day: DateTime): Promise<Response> =>
      fetch(calendarUrl, {
        method: 'REPORT',
        headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' },
        body: `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${stamp(day.startOf('day'))}" end="${stamp(day.startOf('day').plus({ days: 1 }))}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
      });
    // Radicale reads every new file once (its own cache), as it would have when they were PUT.
    await (await report(now)).arrayBuffer();
    await w.addService('capped', openRules({ dailyCap: 8 }), { title: 'Capped' });

    const bookings: number[] = [];
    const puts: number[] = [];
    const reports: number[] = [];
    const ratios: number[] = [];
    let booked = 0;
    for (let i = 0; i < BOOKINGS; i++) {
      // A new day each time (the per-client and recent-booking guards play no part), alternately with a daily cap.
      const day = now.plus({ days: 2 + i }).startOf('day');
      const start = day.set({ hour: 10 }).toMillis();
      const service = i % 2 === 0 ? 'haircut' : 'capped';
      // When the calendar cannot be read, the page offers no form: that page's time stands for the booking.
      const [formMs, form] = await timed(() => openForm(w, service, start).catch(() => null));
      let booking = formMs;
      if (form) {
        const [ms, res] = await timed(() => postForm(`${w.url}/@alice/${service}/book`, { ...form, ...client(`${size}-${i}`) }));
        if (res.status === 303 && /^\/b\//.test(res.headers.get('location') ?? '')) booked++;
        await res.arrayBuffer();
        booking = ms;
      }
      const at = day.set({ hour: 15 });
      const [put, p] = await timed(() => fetch(new URL(`raw-${i}.ics`, calendarUrl), { method: 'PUT', headers: { authorization: auth, 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' }, body: vevent(`raw-${i}`, [`DTSTART:${stamp(at)}`, `DTEND:${stamp(at.plus({ minutes: 30 }))}`, 'SUMMARY:raw']) }));
      if (p.status >= 300) throw new Error(`raw PUT answered ${p.status}`);
      await p.arrayBuffer();
      const [rep, r] = await timed(async () => {
        const x = await report(day);
        await x.arrayBuffer();
        return x;
      });
      if (r.status !== 207) throw new Error(`raw REPORT answered ${r.status}`);
      bookings.push(booking);
      puts.push(put);
      reports.push(rep);
      ratios.push(booking / (put + rep));
    }

    const slots: number[] = [];
    const slotReports: number[] = [];
    let slotsOk = 0;
    for (let i = 0; i < SLOT_READS; i++) {
      const day = now.plus({ days: 10 + i });
      const [ms, res] = await timed(async () => {
        const x = await fetch(`${w.url}/@alice/haircut/slots?from=${day.toISODate()}&to=${day.toISODate()}`);
        return { status: x.status, body: await x.text() };
      });
      if (res.status === 200 && /T\d\d:\d\d/.test(res.body)) slotsOk++;
      slots.push(ms);
      const [rep] = await timed(async () => (await report(day)).arrayBuffer());
      slotReports.push(rep);
    }
    return { size, booked, booking: median(bookings), put: median(puts), report: median(reports), ratio: median(ratios), slots: median(slots), slotsOk, slotReport: median(slotReports) };
  } finally {
    await w.stop();
  }
}

/** Runs the benchmark and returns its markdown section. */
export async function run(): Promise<string> {
  const rows: Row[] = [];
  for (const size of SIZES) rows.push(await measure(size));
  return [
    '## Big calendars',
    '',
    `One Creneau and one Radicale 3 per size on 127.0.0.1 (the app in the benchmark's process); the booking calendar is also the conflict calendar and holds the events (five a day going back years, ${SERIES} weekly series begun three years ago). Booking: the POST of the booking form until its 303 (live re-read, the per-client count, the write, the invitation to the SMTP sink), ${BOOKINGS} bookings on ${BOOKINGS} days, every other one for a service with a daily cap; each followed by one raw PUT and one raw time-range REPORT for the slot's day to the same Radicale. Slot reads: the slots JSON for one day never asked before, each followed by one raw REPORT for that day. Medians.`,
    '',
    '| events | bookings made | booking | raw PUT | raw REPORT (day) | booking ÷ (PUT + REPORT), median per booking | uncached slot read (answered with slots) | raw REPORT (day) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.size.toLocaleString('en')} | ${r.booked}/${BOOKINGS} | ${r.booking.toFixed(0)} ms | ${r.put.toFixed(0)} ms | ${r.report.toFixed(0)} ms | ${r.ratio.toFixed(2)}× | ${r.slots.toFixed(0)} ms (${r.slotsOk}/${SLOT_READS}) | ${r.slotReport.toFixed(0)} ms |`,
    ),
  ].join('\n');
}
