// CPU cost of reading calendar data (issue #13's worker hop, issue #14 point 4's one-year read).
// (a) The worker hop: an ordinary uncached read (100 objects, a new 9-day range each time) through
//     the pool, minus the same parse and expansion in this thread, paired in the same run.
// (b) Creneau's CPU (process.cpuUsage: every thread) reading one year of a generated calendar of
//     1,500 objects with 200 recurring series: cold (a new worker: fresh isolate, nothing parsed,
//     nothing compiled) and warm (objects parsed, a year not read before).
import { availableParallelism, loadavg } from 'node:os';
import { busyReader } from '../../src/calendars/busy.js';
import { createBusyPool } from '../../src/calendars/busy-pool.js';
import type { BusyPool } from '../../src/calendars/busy-pool.js';
import { minimizeIcs } from '../../src/calendars/ics-guard.js';
import type { Interval } from '../../src/lib/interval.js';
import { rng } from '../test-support/rng.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOP_ROUNDS = 400;
const COLD_ROUNDS = 5;
const WARM_ROUNDS = 15;
/**
 * The pools here measure CPU, not the product's wall-clock budget (TASK_MS, 3 s): on a loaded
 * machine a cold read of the big calendar can take longer than that and would fail closed.
 */
const BENCH_TASK_MS = 60_000;


const PARIS = [
  'BEGIN:VTIMEZONE', 'TZID:Europe/Paris',
  'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
  'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
  'END:VTIMEZONE',
];

const stamp = (wall: number): string => new Date(wall).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');

function calendar(events: readonly string[][], zone: boolean): string {
  const out = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//busy-cpu//EN', ...(zone ? PARIS : [])];
  for (const ev of events) out.push('BEGIN:VEVENT', 'DTSTAMP:20260101T000000Z', 'SUMMARY:Appointment', 'DESCRIPTION:Notes that minimisation drops', ...ev, 'END:VEVENT');
  out.push('END:VCALENDAR', '');
  return out.join('\r\n');
}

/**
 * A staff calendar with history: `objects` resources over 2024–2027, `series` of them recurring
 * (weekly, every two weeks, daily with UNTIL, monthly, yearly; some with EXDATEs and a moved
 * instance), the rest one-off appointments; two thirds in Europe/Paris (with its VTIMEZONE, as
 * clients write them), some in America/New_York (IANA name only), the rest in UTC or all-day.
 */
export function generatedCalendar(objects: number, series: number, seed = 1): string[] {
  const r = rng(seed);
  const out: string[] = [];
  const from = Date.UTC(2024, 0, 1);
  const span = 3 * 365 * DAY;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  for (let i = 0; i < objects; i++) {
    const day = from + Math.floor(r() * (span / DAY)) * DAY;
    const wall = day + (8 + Math.floor(r() * 10)) * HOUR + pick([0, 15, 30, 45]) * 60_000;
    const len = pick([30, 45, 60, 90]) * 60_000;
    const kind = r();
    const zone = kind < 0.66 ? 'paris' : kind < 0.8 ? 'ny' : kind < 0.95 ? 'utc' : 'date';
    const at = (w: number): string => (zone === 'paris' ? `;TZID=Europe/Paris:${stamp(w)}` : zone === 'ny' ? `;TZID=America/New_York:${stamp(w)}` : `:${stamp(w)}Z`);
    const lines: string[] = [`UID:bench-${seed}-${i}@example.org`];
    if (zone === 'date') lines.push(`DTSTART;VALUE=DATE:${stamp(day).slice(0, 8)}`, `DTEND;VALUE=DATE:${stamp(day + DAY).slice(0, 8)}`);
    else lines.push(`DTSTART${at(wall)}`, `DTEND${at(wall + len)}`);
    const events = [lines];
    if (i < series) {
      const rule = pick([
        'FREQ=WEEKLY',
        'FREQ=WEEKLY;BYDAY=MO,WE,FR',
        'FREQ=WEEKLY;INTERVAL=2',
        `FREQ=DAILY;UNTIL=${stamp(wall + 200 * DAY)}Z`,
        'FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR',
        'FREQ=MONTHLY;BYDAY=2TU',
        'FREQ=MONTHLY',
        'FREQ=YEARLY',
        'FREQ=WEEKLY;COUNT=30',
      ]);
      lines.push(`RRULE:${zone === 'date' ? rule.replace(/UNTIL=(\d{8})T\d{6}Z/, 'UNTIL=$1') : rule}`);
      if (zone !== 'date' && r() < 0.4) {
        const skipped = [1, 3, 5].map((n) => `EXDATE${at(wall + n * 7 * DAY)}`);
        lines.push(...skipped);
        events.push([`UID:bench-${seed}-${i}@example.org`, `RECURRENCE-ID${at(wall + 14 * DAY)}`, `DTSTART${at(wall + 14 * DAY + 2 * HOUR)}`, `DTEND${at(wall + 14 * DAY + 2 * HOUR + len)}`]);
      }
    }
    out.push(calendar(events, zone === 'paris'));
  }
  return out;
}

const minimized = (texts: readonly string[]): string[] => texts.map((t) => minimizeIcs(t) ?? '');

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? 0;
};
const f = (ms: number, digits = 2): string => ms.toFixed(digits);

function same(a: readonly Interval[], b: readonly Interval[]): boolean {
  return a.length === b.length && a.every((x, i) => x.start === b[i]?.start && x.end === b[i]?.end);
}

async function throughPool(pool: BusyPool, key: string, texts: readonly string[], range: Interval): Promise<Interval[]> {
  const r = await pool.busy(key, texts, range, 'Europe/Paris');
  if (!r.ok) throw new Error(`pool read failed: ${r.error}`);
  return r.value;
}

/** (a) Pairs of reads of the same range: through the pool, then in this thread. */
async function hop(): Promise<string> {
  const texts = minimized(generatedCalendar(100, 10, 7));
  const pool = createBusyPool({ size: 1, taskMs: BENCH_TASK_MS });
  const direct = busyReader('Europe/Paris');
  const start = Date.UTC(2026, 5, 1);
  // Warm-up: both have parsed every object and compiled their code.
  for (let i = 0; i < 50; i++) {
    const range = { start: start - (i + 1) * DAY, end: start - (i + 1) * DAY + 9 * DAY };
    await throughPool(pool, 'bench', texts, range);
    direct(texts, range);
  }
  const rows: string[] = [];
  for (const variant of ['unchanged', 'changed'] as const) {
    const pooled: number[] = [];
    const inThread: number[] = [];
    const added: number[] = [];
    let current = texts;
    for (let i = 0; i < HOP_ROUNDS; i++) {
      const at = start + (i % 300) * HOUR + (variant === 'changed' ? 400 * HOUR : 0);
      const range = { start: at, end: at + 9 * DAY };
      if (variant === 'changed') {
        // One object edited since the last read: new text, the others unchanged.
        const edited = minimized(generatedCalendar(1, 0, 1000 + i))[0] as string;
        current = [...current.slice(0, 99), edited];
      }
      let t = performance.now();
      const a = await throughPool(pool, 'bench', current, range);
      const tPool = performance.now() - t;
      t = performance.now();
      const b = direct(current, range);
      const tThread = performance.now() - t;
      if (!b.ok || !same(a, b.value)) throw new Error('the pool and the thread disagree');
      pooled.push(tPool);
      inThread.push(tThread);
      added.push(tPool - tThread);
    }
    const label = variant === 'unchanged' ? 'objects unchanged (sent as "same")' : 'one object edited (texts sent again, one parsed)';
    rows.push(`| ${label} | ${f(pct(inThread, 0.5))} / ${f(pct(inThread, 0.95))} ms | ${f(pct(pooled, 0.5))} / ${f(pct(pooled, 0.95))} ms | **${f(pct(added, 0.5))}** / ${f(pct(added, 0.95))} ms |`);
  }
  // The round trip alone: an empty calendar.
  const empty: number[] = [];
  for (let i = 0; i < HOP_ROUNDS; i++) {
    const t = performance.now();
    await throughPool(pool, 'empty', [], { start, end: start + 9 * DAY });
    empty.push(performance.now() - t);
  }
  rows.push(`| the round trip alone (empty calendar) | | ${f(pct(empty, 0.5))} / ${f(pct(empty, 0.95))} ms | |`);
  await pool.close();
  return [
    `| 100 objects (10 series), new 9-day range, ${HOP_ROUNDS} pairs | in-thread median / p95 | pool median / p95 | added (per pair) median / p95 |`,
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** CPU (all threads) and wall time of one call, in ms. */
async function cpuOf<T>(fn: () => Promise<T>): Promise<{ cpu: number; wall: number; value: T }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1000, wall, value };
}

/** (b) One year of a 1,500-object calendar with 200 series. */
async function year(): Promise<string> {
  const texts = minimized(generatedCalendar(1500, 200, 42));
  const bytes = texts.reduce((n, t) => n + t.length, 0);
  const start = Date.UTC(2026, 0, 1);
  const yearOf = (shift: number): Interval => ({ start: start + shift, end: start + shift + 365 * DAY });
  const cold: { cpu: number; wall: number }[] = [];
  let reference: Interval[] | null = null;
  for (let i = 0; i < COLD_ROUNDS; i++) {
    const pool = createBusyPool({ size: 1, taskMs: BENCH_TASK_MS });
    await throughPool(pool, 'ready', [], yearOf(0)); // the worker has loaded its code
    const r = await cpuOf(() => throughPool(pool, 'bench', texts, yearOf(0)));
    await pool.close();
    if (reference && !same(reference, r.value)) throw new Error('cold reads disagree');
    reference = r.value;
    cold.push(r);
  }
  const pool = createBusyPool({ size: 1, taskMs: BENCH_TASK_MS });
  for (let i = 0; i < 3; i++) await throughPool(pool, 'bench', texts, yearOf(-(i + 1) * DAY));
  const warm: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < WARM_ROUNDS; i++) warm.push(await cpuOf(() => throughPool(pool, 'bench', texts, yearOf((i + 1) * HOUR))));
  await pool.close();
  // The same warm read in this thread (no hop), and a warm re-parse (a new reader).
  const direct = busyReader('Europe/Paris');
  for (let i = 0; i < 3; i++) direct(texts, yearOf(-(i + 1) * DAY));
  const inThread: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < WARM_ROUNDS; i++) inThread.push(await cpuOf(async () => direct(texts, yearOf((i + 1) * HOUR))));
  const reparse: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < 5; i++) reparse.push(await cpuOf(async () => busyReader('Europe/Paris')(texts, yearOf(0))));
  const row = (label: string, xs: readonly { cpu: number; wall: number }[]): string =>
    `| ${label} | ${xs.length} | **${f(pct(xs.map((x) => x.cpu), 0.5), 0)}** (${f(Math.min(...xs.map((x) => x.cpu)), 0)}–${f(Math.max(...xs.map((x) => x.cpu)), 0)}) | ${f(pct(xs.map((x) => x.wall), 0.5), 0)} |`;
  return [
    `${texts.length} objects (minimized: ${(bytes / 1024).toFixed(0)} KiB), 200 series, window 2026-01-01 + 365 days, business zone Europe/Paris; ${reference?.length ?? 0} busy intervals.`,
    '',
    '| read | runs | CPU ms, median (min–max) | wall ms, median |',
    '|---|---:|---:|---:|',
    row('cold: new worker (fresh isolate), every object parsed', cold),
    row('warm: same worker, objects parsed, a year not read before', warm),
    row('warm, in this thread (no hop)', inThread),
    row('warm code, every object parsed again (new reader, this thread)', reparse),
  ].join('\n');
}

export async function run(): Promise<string> {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const a = await hop();
  const b = await year();
  return [
    '## Calendar reads: CPU (busy-cpu)',
    '',
    `Load average before measuring: ${load} (${availableParallelism()} CPUs).`,
    '',
    '(a) Worker hop on an ordinary uncached read:',
    '',
    a,
    '',
    '(b) One year of a big calendar (CPU of every thread of the process):',
    '',
    b,
    '',
    `Load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
  ].join('\n');
}
