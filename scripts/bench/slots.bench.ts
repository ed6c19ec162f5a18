// Slot engine benchmark (issue 3): a 31-day window, 30-minute service on a 15-minute step,
// Mon–Sat 08:00–20:00 in Europe/Paris (the window spans the 25 Oct 2026 change), against
// 500 / 5,000 / 50,000 random busy intervals. Goal: median ≤ 2 ms at 5,000.
import { computeSlots } from '../../src/availability/slots.js';
import type { ServiceRules, SlotQuery, TimeRange } from '../../src/availability/slots.js';
import type { Interval } from '../../src/lib/interval.js';
import { rng } from '../test-support/rng.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const day: readonly TimeRange[] = [['08:00', '20:00']];

const rules: ServiceRules = {
  durationMinutes: 30,
  stepMinutes: 15,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  minimumNoticeMinutes: 0,
  horizonDays: 60,
  dailyCap: null,
  hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: [] },
  overrides: [],
};

const start = Date.UTC(2026, 9, 12, 0, 0); // Mon 12 Oct 2026
const range: Interval = { start, end: start + 31 * DAY };


/** `n` intervals of 5–120 minutes, uniformly placed over the window, in random order. */
function busySet(n: number, seed: number): Interval[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const s = range.start + Math.floor(r() * (range.end - range.start) / MIN) * MIN;
    return { start: s, end: s + (5 + Math.floor(r() * 116)) * MIN };
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function summarise(times: number[]): { median: number; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
}

/** Runs the slot benchmark and returns its markdown section. */
export async function run(): Promise<string> {
  const base: Omit<SlotQuery, 'busy'> = { rules, timeZone: 'Europe/Paris', now: start - DAY, range };
  const candidates = computeSlots({ ...base, busy: [] }).length;
  const sizes = [
    { n: 500, iterations: 2000 },
    { n: 5_000, iterations: 1000 },
    { n: 50_000, iterations: 200 },
  ];
  const rows: string[] = [];
  let previous: number | null = null;
  for (const { n, iterations } of sizes) {
    const sets = [1, 2, 3, 4].map((seed) => busySet(n, seed * 7919 + n));
    for (let i = 0; i < Math.min(200, iterations); i++) computeSlots({ ...base, busy: sets[i % sets.length]! }); // warm-up (JIT, caches)
    const times: number[] = [];
    let offered = 0;
    for (let i = 0; i < iterations; i++) {
      const q: SlotQuery = { ...base, busy: sets[i % sets.length]! };
      const t0 = performance.now();
      offered = computeSlots(q).length;
      times.push(performance.now() - t0);
    }
    const { median, p95 } = summarise(times);
    const growth = previous === null ? '—' : `×${(median / previous).toFixed(1)}`;
    previous = median;
    const perInterval = ((median * 1000) / n).toFixed(3);
    rows.push(`| ${n.toLocaleString('en-US')} | ${iterations} | ${median.toFixed(3)} | ${p95.toFixed(3)} | ${growth} | ${perInterval} | ${offered} |`);
    await new Promise((resolve) => setImmediate(resolve));
  }

  // Cold: the first query for each zone pays for its Intl formatter and offset samples.
  const zones = Intl.supportedValuesOf('timeZone').filter((z) => z !== 'Europe/Paris');
  const coldBusy = busySet(5_000, 1);
  const cold = summarise(
    zones.map((timeZone) => {
      const t0 = performance.now();
      computeSlots({ ...base, timeZone, busy: coldBusy });
      return performance.now() - t0;
    }),
  );

  return [
    '## Slot engine',
    '',
    '`computeSlots` over a 31-day window (12 Oct – 12 Nov 2026, Europe/Paris, across the 25 Oct',
    `change): 30-minute service, 15-minute step, Mon–Sat 08:00–20:00 (${candidates.toLocaleString('en-US')} candidate starts),`,
    'random busy intervals of 5–120 minutes in random order (4 fixed-seed sets per size, cycled),',
    'after a warm-up. Milliseconds per call, including rule validation. With thousands of busy',
    'intervals the month is fully booked; the work per interval is the same either way.',
    '',
    '| busy intervals | iterations | median ms | p95 ms | median growth | µs per busy interval | slots offered (last set) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Cold start (first query for a zone: new Intl formatter, offsets sampled), 5,000 busy, over`,
    `${zones.length} zones: median ${cold.median.toFixed(3)} ms, p95 ${cold.p95.toFixed(3)} ms.`,
  ].join('\n');
}
