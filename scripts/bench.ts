// `npm run bench`: runs every benchmark module below in order and prints one markdown document
// (paste the sections into docs/benchmarks.md). Not a test: nothing here fails on a number.
// To add a benchmark, create scripts/bench/<name>.bench.ts exporting `run(): Promise<string>`
// and add it to BENCHES.
import { cpus } from 'node:os';
import * as slots from './bench/slots.bench.js';
import * as booking from './bench/booking.bench.js';
import * as untrusted from './bench/untrusted.bench.js';
import * as startup from './bench/startup.bench.js';
import * as busyCpu from './bench/busy-cpu.bench.js';
import * as reminders from './bench/reminders.bench.js';
import * as bigcal from './bench/bigcal.bench.js';

interface BenchModule {
  run(): Promise<string>;
}

const BENCHES: readonly [string, BenchModule][] = [
  ['slots', slots],
  ['booking', booking],
  ['untrusted', untrusted],
  ['startup', startup],
  ['busy-cpu', busyCpu],
  ['reminders', reminders],
  ['bigcal', bigcal],
];

const only = process.argv.slice(2);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`<!-- ${new Date().toISOString()} · ${cpus().length} CPUs · ${cpu} · Node ${process.version} -->\n`);
for (const [name, bench] of BENCHES) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(await bench.run());
  console.log();
}
