// Public booking pages under load (issue 6): requests per second of the slot picker page and
// the slots JSON with a warm in-memory busy cache, against a bare node:http hello-world on the
// same machine in the same run; uncached slots JSON against one raw CalDAV REPORT to the same
// loopback Radicale; total transfer size of the booking page with its assets.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';

const DURATION_MS = 3000;
const CONNECTIONS = 16;
/** Each figure is measured in ROUNDS rounds alternating with the hello-world (shared machines are noisy). */
const ROUNDS = 5;


async function startProcess(args: string[]): Promise<{ info: Record<string, string>; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once('line', resolve);
    child.once('exit', () => reject(new Error(`${args.join(' ')} exited before it started`)));
  });
  return { info: JSON.parse(line) as Record<string, string>, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const WRK = '/usr/bin/wrk';

/**
 * Requests per second with CONNECTIONS concurrent keep-alive clients for DURATION_MS: with wrk
 * (Debian package `wrk`) when installed, a C load generator that stays out of the way; else a
 * closed loop of fetch calls in this process, which limits what a fast server can show.
 * `unique` adds a never-repeated `n=` parameter to every request (each one is rendered afresh).
 */
async function load(url: string, opts: { unique?: boolean } = {}): Promise<number> {
  for (let i = 0; i < 50; i++) await (await fetch(url)).arrayBuffer(); // warm up (and warm the cache)
  const sep = url.includes('?') ? '&' : '?';
  if (existsSync(WRK)) {
    const run = (seconds: number): string => {
      const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`];
      if (opts.unique) {
        // A counter that no earlier run used, so no request is answered from the micro-cache.
        const script = join(tmpdir(), 'creneau-bench-unique.lua');
        const path = new URL(url).pathname + new URL(url).search;
        writeFileSync(script, `local n = ${(Date.now() % 1e9) * 100}\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, ${JSON.stringify(path + sep)} .. "n=" .. n)\nend\n`);
        args.push('-s', script);
      }
      return execFileSync(WRK, [...args, url], { encoding: 'utf8' });
    };
    run(1); // one second of warm-up (JIT, caches), not counted
    const out = run(DURATION_MS / 1000);
    if (/Non-2xx/.test(out)) throw new Error(`${url} answered errors under load:\n${out}`);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  }
  let done = 0;
  const until = Date.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      while (Date.now() < until) {
        const res = await fetch(opts.unique ? `${url}${sep}n=${c}-${done}` : url);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
        done++;
      }
    }),
  );
  return done / (DURATION_MS / 1000);
}

interface Versus {
  readonly rps: number;
  readonly hello: number;
  readonly ratio: number;
}

/** `url` and the hello-world in alternating rounds: medians of each and of the per-round ratio. */
async function versusHello(helloUrl: string, url: string, opts: { unique?: boolean } = {}): Promise<Versus> {
  const rps: number[] = [];
  const hello: number[] = [];
  const ratio: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const h = await load(helloUrl);
    const r = await load(url, opts);
    hello.push(h);
    rps.push(r);
    ratio.push(r / h);
  }
  return { rps: median(rps), hello: median(hello), ratio: median(ratio) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Runs the benchmark and returns its markdown section. */
export async function run(): Promise<string> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const hello = await startProcess([
    '-e',
    "const s=require('node:http').createServer((q,r)=>{r.end('hello')}).listen(0,'127.0.0.1',()=>console.log(JSON.stringify({url:'http://127.0.0.1:'+s.address().port+'/'})));process.on('SIGTERM',()=>process.exit(0))",
  ]);
  // The framework's own ceiling: Express 5 answering a constant JSON, nothing else.
  const bareExpress = await startProcess([
    '--input-type=module',
    '-e',
    "import express from 'express';const a=express();a.get('/',(q,r)=>r.json({status:'ok'}));const s=a.listen(0,'127.0.0.1',()=>console.log(JSON.stringify({url:'http://127.0.0.1:'+s.address().port+'/'})));process.on('SIGTERM',()=>process.exit(0))",
  ]);
  const app = await startProcess(['--import', 'tsx', `${here}booking-server.ts`]);
  const base = app.info.url as string;
  try {
    const helloUrl = hello.info.url as string;
    const today = DateTime.now().setZone('Europe/Paris');
    const from = today.plus({ days: 1 }).toISODate();
    const to = today.plus({ days: 7 }).toISODate();
    const rows: [string, Versus][] = [
      ["bare Express 5 answering a constant JSON (the framework's ceiling)", await versusHello(helloUrl, bareExpress.info.url as string)],
      ['Creneau `GET /healthz` (through Express: headers, CSP, locale, session check)', await versusHello(helloUrl, `${base}/healthz`)],
      ['`GET /@alice/haircut` (slot picker page, 14 days)', await versusHello(helloUrl, `${base}/@alice/haircut`)],
      ['`GET /@alice/haircut/slots` (7 days JSON)', await versusHello(helloUrl, `${base}/@alice/haircut/slots?from=${from}&to=${to}`)],
      ['`GET /@alice/haircut?n=…` (a new URL every request: always rendered, busy cache warm)', await versusHello(helloUrl, `${base}/@alice/haircut`, { unique: true })],
      ['`GET /@alice/haircut/slots?…&n=…` (a new URL every request)', await versusHello(helloUrl, `${base}/@alice/haircut/slots?from=${from}&to=${to}`, { unique: true })],
    ];

    // Uncached: every request asks for a day no earlier request touched (distinct cache keys),
    // in turn with one raw REPORT; first on the empty calendar, then with a year of events.
    const auth = `Basic ${Buffer.from(`${app.info.username}:${app.info.password}`).toString('base64')}`;
    const calendarUrl = app.info.calendarUrl as string;
    const stamp = (d: DateTime) => d.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
    const report = `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${stamp(today)}" end="${stamp(today.plus({ days: 3 }))}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
    let firstDay = 1;
    const uncachedVersusReport = async (): Promise<{ uncached: number; raw: number }> => {
      const uncached: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < 25; i++) {
        const f = today.plus({ days: firstDay++ }).toISODate();
        uncached.push(await timed(async () => (await fetch(`${base}/@alice/haircut/slots?from=${f}&to=${f}`)).arrayBuffer()));
        raw.push(await timed(async () => (await fetch(calendarUrl, { method: 'REPORT', headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' }, body: report })).arrayBuffer()));
      }
      return { uncached: median(uncached), raw: median(raw) };
    };
    const empty = await uncachedVersusReport();
    const EVENTS = 300;
    for (let i = 0; i < EVENTS; i++) {
      const at = today.minus({ days: 180 }).plus({ hours: Math.round((i * 365 * 24) / EVENTS) });
      const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', 'BEGIN:VEVENT', `UID:bench-${i}`, `DTSTAMP:${stamp(today)}`, `DTSTART:${stamp(at)}`, `DTEND:${stamp(at.plus({ hours: 1 }))}`, 'SUMMARY:busy', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
      const put = await fetch(new URL(`bench-${i}.ics`, calendarUrl), { method: 'PUT', headers: { authorization: auth, 'content-type': 'text/calendar' }, body: ics });
      if (put.status >= 300) throw new Error(`seeding the calendar: PUT answered ${put.status}`);
    }
    await (await fetch(`${base}/@alice/haircut/slots?from=${today.toISODate()}&to=${today.toISODate()}`)).arrayBuffer(); // reads the new events once
    const seeded = await uncachedVersusReport();

    const html = await (await fetch(`${base}/@alice/haircut`)).text();
    let bytes = Buffer.byteLength(html);
    const assets: string[] = [];
    for (const m of html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)) {
      const size = (await (await fetch(`${base}${m[1]}`)).arrayBuffer()).byteLength;
      assets.push(`${(m[1] as string).split('?')[0]} ${size} B`);
      bytes += size;
    }
    return [
      '## Public booking pages',
      '',
      `Load: ${existsSync(WRK) ? 'wrk, 1 thread' : 'a fetch loop in the benchmark process (install the Debian package wrk for better figures)'}, ${CONNECTIONS} concurrent keep-alive connections for ${DURATION_MS / 1000} s each after 1 s of warm-up; servers in their own processes on 127.0.0.1 (sharing the cores with wrk: pinning the server to one core and wrk to the other was tried and measured lower); busy cache warm (≤ 60 s, in memory). Each row is ${ROUNDS} rounds alternating with a bare \`node:http\` hello-world; medians.`,
      '',
      '| what | requests/s | hello-world, same rounds | ratio (median per round) |',
      '| --- | ---: | ---: | ---: |',
      ...rows.map(([what, v]) => `| ${what} | ${v.rps.toFixed(0)} | ${v.hello.toFixed(0)} | ${(v.ratio * 100).toFixed(0)} % |`),
      '',
      `Uncached slots JSON (one day never asked before, 25 requests, each followed by one raw CalDAV REPORT — calendar-query over 3 days — to the same loopback Radicale; medians): empty calendar ${empty.uncached.toFixed(1)} ms vs ${empty.raw.toFixed(1)} ms — ${(empty.uncached / empty.raw).toFixed(2)}×; with ${EVENTS} events over a year ${seeded.uncached.toFixed(1)} ms vs ${seeded.raw.toFixed(1)} ms — ${(seeded.uncached / seeded.raw).toFixed(2)}× (goal ≤ 1.5×).`,
      '',
      `Booking page transfer size with its assets (uncompressed): ${(bytes / 1024).toFixed(1)} KiB (goal < 50 KB): page ${Buffer.byteLength(html)} B, ${assets.join(', ')}.`,
    ].join('\n');
  } finally {
    await stop(app.child);
    await stop(hello.child);
    await stop(bareExpress.child);
  }
}
