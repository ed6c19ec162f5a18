// Untrusted calendar data (issue 13): event-loop delay of the main thread while 20 visitors ask
// for uncached ranges of a calendar holding the costliest legal series we could write, next to
// the same with an ordinary calendar; and the added cost of the worker hop on an ordinary read.
// The calendar is served by the hostile test server in its own process (ics mode).
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createCaldavProvider } from '../../src/calendars/caldav/caldav.js';
import { busyReader } from '../../src/calendars/busy.js';
import { createBusyPool } from '../../src/calendars/busy-pool.js';
import { minimizeIcs } from '../../src/calendars/ics-guard.js';
import type { Command } from '../../src/calendars/caldav/hostile-server.js';

const DAY = 86_400_000;
const HOP_ROUNDS = 300;

function vevent(uid: string, lines: readonly string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

/** A working week: 200 single appointments over the year and a few weekly series. */
function ordinary(): string[] {
  const out: string[] = [];
  const base = Date.UTC(2026, 0, 5, 9);
  for (let i = 0; i < 200; i++) {
    const s = new Date(base + i * 1.7 * DAY).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const e = new Date(base + i * 1.7 * DAY + 3_600_000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    out.push(vevent(`o${i}`, [`DTSTART:${s}`, `DTEND:${e}`]));
  }
  for (let i = 0; i < 5; i++) out.push(vevent(`w${i}`, [`DTSTART;TZID=Europe/Paris:2025010${i + 1}T1${i}0000`, `DTEND;TZID=Europe/Paris:2025010${i + 1}T1${i}3000`, 'RRULE:FREQ=WEEKLY']));
  return out;
}

/**
 * Legal series just under the read's budget (50,000 occurrences): ten every-five-minutes
 * series without end (about 3,700 occurrences each in a 9-day read with its margins) and one
 * every-minute series that matches once an hour (60 candidate dates tried per occurrence).
 */
function costly(): string[] {
  const out = Array.from({ length: 10 }, (_, i) => vevent(`m${i}`, [`DTSTART:20200101T00${String(i).padStart(2, '0')}00Z`, 'DURATION:PT1M', 'RRULE:FREQ=MINUTELY;INTERVAL=5']));
  out.push(vevent('s', ['DTSTART:20200101T000000Z', 'DURATION:PT1M', 'RRULE:FREQ=MINUTELY;BYMINUTE=0']));
  return out;
}

async function server(): Promise<{ child: ChildProcess; url: string; set: (c: Command) => Promise<void> }> {
  const child = fork(fileURLToPath(new URL('../../src/calendars/caldav/hostile-server.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const set = (c: Command) => new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send(c);
  });
  return { child, url: `http://127.0.0.1:${port}/cal/`, set };
}

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? 0;
};

/** 20 visitors at once, each on a range nobody asked for: loop delay p99/max, and how long until all had an answer. */
async function visitors(url: string, label: string): Promise<string> {
  const pool = createBusyPool();
  const provider = createCaldavProvider({ username: 'u', password: 'p', bookingCalendarUrl: url, conflictCalendarUrls: [url], allowHosts: ['127.0.0.1'], uidHost: 'bench.test', timeZone: 'Europe/Paris', engine: pool });
  const start = Date.UTC(2026, 5, 1);
  await provider.busy({ start, end: start + 9 * DAY }); // the objects are downloaded and parsed once
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => provider.busy({ start: start + (i + 1) * DAY, end: start + (i + 10) * DAY })));
  const wall = performance.now() - t0;
  h.disable();
  await pool.close();
  const outcome = results.every((r) => r.ok) ? 'all read' : `${results.filter((r) => !r.ok).length} failed closed`;
  return `| ${label} | ${(h.percentile(99) / 1e6).toFixed(1)} ms | ${(h.max / 1e6).toFixed(1)} ms | ${wall.toFixed(0)} ms | ${outcome} |`;
}

/** Added time of the worker hop: the same ordinary read (parse cached, new range) in the worker and in-thread. */
async function hop(texts: readonly string[]): Promise<string> {
  const pool = createBusyPool({ size: 1 });
  const small = texts.map((t) => minimizeIcs(t) ?? '');
  const direct = busyReader('Europe/Paris');
  const start = Date.UTC(2026, 5, 1);
  await pool.busy('bench', small, { start, end: start + 9 * DAY }, 'Europe/Paris');
  direct(small, { start, end: start + 9 * DAY });
  const inWorker: number[] = [];
  const inThread: number[] = [];
  const empty: number[] = [];
  for (let i = 0; i < HOP_ROUNDS; i++) {
    const range = { start: start + (i % 200) * 3_600_000, end: start + (i % 200) * 3_600_000 + 9 * DAY };
    let t = performance.now();
    await pool.busy('bench', small, range, 'Europe/Paris');
    inWorker.push(performance.now() - t);
    t = performance.now();
    direct(small, range);
    inThread.push(performance.now() - t);
    t = performance.now();
    await pool.busy('empty', [], range, 'Europe/Paris');
    empty.push(performance.now() - t);
  }
  await pool.close();
  const m = (xs: number[]) => pct(xs, 0.5);
  return [
    `| read of ${texts.length} objects, new range | in-thread | worker | added |`,
    '|---|---|---|---|',
    `| median | ${m(inThread).toFixed(2)} ms | ${m(inWorker).toFixed(2)} ms | ${(m(inWorker) - m(inThread)).toFixed(2)} ms |`,
    `| p95 | ${pct(inThread, 0.95).toFixed(2)} ms | ${pct(inWorker, 0.95).toFixed(2)} ms | ${(pct(inWorker, 0.95) - pct(inThread, 0.95)).toFixed(2)} ms |`,
    `| the hop alone (empty calendar): median | | ${m(empty).toFixed(2)} ms | |`,
  ].join('\n');
}

export async function run(): Promise<string> {
  const s = await server();
  try {
    const plain = ordinary();
    await s.set({ mode: { kind: 'ics', texts: plain } });
    const a = await visitors(s.url, `ordinary calendar (${plain.length} objects)`);
    const heavy = costly();
    await s.set({ mode: { kind: 'ics', texts: heavy } });
    const b = await visitors(s.url, `costliest legal series (${heavy.length} series)`);
    const c = await hop(plain);
    return [
      '## Untrusted calendar data (worker pool)',
      '',
      `Load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} CPUs).`,
      '',
      '20 visitors at once, each asking for a 9-day range not asked before, of one CalDAV calendar',
      '(main-thread event-loop delay, `monitorEventLoopDelay`, resolution 1 ms):',
      '',
      '| calendar | loop delay p99 | max | all answered after | outcome |',
      '|---|---|---|---|---|',
      a,
      b,
      '',
      `Worker hop on an ordinary read (${HOP_ROUNDS} reads, objects already parsed, new range each time):`,
      '',
      c,
    ].join('\n');
  } finally {
    s.child.disconnect();
  }
}
