// Start-up benchmark (issue 12.7): time from spawn to the first 200 on /healthz, and resident
// memory once idle, for the ways Creneau is started, beside a bare node:http server started
// the same way in the same rounds. Goals: within 3× the bare server's time, under 80 MiB idle.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINARY, BUILD_DIR, NODE_VERSION, buildBinary, missingToolchain } from '../build-binary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** How long a server sits without a request before its memory is read. */
const IDLE_MS = 3000;
const MIB = 1024 * 1024;
/** The longer wait of one extra start per candidate. */
const LATE_IDLE_MS = 15_000;

const BARE = [
  "const s=require('node:http').createServer((q,r)=>{r.end('ok')})",
  ".listen(0,'127.0.0.1',()=>console.log('listening on 127.0.0.1:'+s.address().port));",
  "process.on('SIGTERM',()=>process.exit(0))",
].join('');

interface Candidate {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  /** The process whose memory counts: the server itself, not a launcher in front of it. */
  readonly server: (pid: number) => number;
  /** The bare server on the same Node, when it is not the first candidate's. */
  readonly sameNode?: Candidate;
}

interface Sample {
  readonly ms: number;
  /** CPU time (user + system) the server process used up to its first answer. */
  readonly cpuMs: number;
  readonly rssServer: number;
  readonly rssTree: number;
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function tree(pid: number): number[] {
  return [pid, ...children(pid).flatMap(tree)];
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** utime + stime from /proc/PID/stat, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function argv(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

/** npm → sh -c → node dist/main.js: the node process whose script is `script` is the server. */
function nodeRunning(script: string): (pid: number) => number {
  return (pid) => tree(pid).find((p) => argv(p)[1] === script) ?? pid;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // The whole group: npm start leaves its node child running if only npm is signalled.
  process.kill(-(child.pid as number), 'SIGTERM');
  const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function once(c: Candidate, dataDir: string, idleMs = IDLE_MS): Promise<Sample> {
  const started = performance.now();
  const child = spawn(c.cmd, c.args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CRENEAU_DATA_DIR: dataDir, CRENEAU_HOST: '127.0.0.1', CRENEAU_PORT: '0', CRENEAU_LOG: 'errors', XDG_CACHE_HOME: join(dataDir, 'cache') },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      const res = m ? await fetch(`http://127.0.0.1:${m[1]}/healthz`).catch(() => null) : null;
      if (res?.status === 200) {
        const ms = performance.now() - started;
        const pid = child.pid as number;
        const cpu = cpuMs(c.server(pid));
        await new Promise((r) => setTimeout(r, idleMs));
        return { ms, cpuMs: cpu, rssServer: rss(c.server(pid)), rssTree: tree(pid).reduce((sum, p) => sum + rss(p), 0) };
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`${c.name} did not answer /healthz:\n${out}`);
  } finally {
    await stop(child);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export async function run(): Promise<string> {
  // npm start's own build step, so the compiled path is measured as an admin gets it.
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build-js.mjs')], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('scripts/build-js.mjs failed');
  const node = process.execPath;
  const candidates: Candidate[] = [
    { name: 'bare `node:http` hello-world (same Node)', cmd: node, args: ['-e', BARE], server: (pid) => pid },
    { name: '`node dist/main.js serve` (what `npm start` runs)', cmd: node, args: ['dist/main.js', 'serve'], server: (pid) => pid },
    { name: '`npm start` (npm, the up-to-date check, then the above)', cmd: 'npm', args: ['start', '--silent'], server: nodeRunning('dist/main.js') },
  ];
  // The binary of the current sources (cached build inputs: seconds), beside a bare server run
  // by the very Node it carries, so its own overhead is told apart from Node 24's.
  const why = missingToolchain();
  if (why) console.error(`startup bench: no binary measured (${why})`);
  else {
    await buildBinary(() => undefined);
    const node24 = join(BUILD_DIR, `node-v${NODE_VERSION}-linux-x64-runtime`, 'bin', 'node');
    const bare24: Candidate = { name: `bare \`node:http\` hello-world (Node ${NODE_VERSION}, the binary's runtime)`, cmd: node24, args: ['-e', BARE], server: (pid) => pid };
    candidates.push(bare24, { name: `single binary \`dist/creneau serve\` (Node ${NODE_VERSION})`, cmd: BINARY, args: ['serve'], server: (pid) => pid, sameNode: bare24 });
  }

  const tmp = mkdtempSync(join(tmpdir(), 'creneau-startup-'));
  const samples = new Map<Candidate, Sample[]>(candidates.map((c) => [c, []]));
  const first = new Map<Candidate, Sample>();
  const late = new Map<Candidate, Sample>();
  try {
    // The first start of each creates its database and key: reported apart, not in the medians.
    for (const c of candidates) first.set(c, await once(c, join(tmp, String(candidates.indexOf(c)))));
    for (let round = 0; round < ROUNDS; round++) {
      // A different order each round, so no candidate always runs on the heels of another.
      const order = candidates.map((_, i) => candidates[(i + round) % candidates.length] as Candidate);
      for (const c of order) samples.get(c)?.push(await once(c, join(tmp, String(candidates.indexOf(c)))));
    }
    // Idle for longer: Node's memory reducer runs ~8 s after the last allocation burst.
    for (const c of candidates) late.set(c, await once(c, join(tmp, String(candidates.indexOf(c))), LATE_IDLE_MS));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const bare = samples.get(candidates[0] as Candidate) ?? [];
  const lines = [
    '## Start-up and idle memory',
    '',
    `\`scripts/bench/startup.bench.ts\`: each way of starting is spawned with \`CRENEAU_PORT=0\` on an existing data folder, \`/healthz\` polled every 2 ms; CPU time is the server process's user + system time at that moment (what load on a shared machine does not inflate); memory is VmRSS ${IDLE_MS / 1000} s after the first answer, with no request in between. ${ROUNDS} rounds, every candidate once per round in a rotating order; the ratio is the median of the per-round ratios to the bare server (this shared machine's speed swings within seconds).`,
    '',
    `| what | first 200 \`/healthz\`, median ms (min–max) | × bare (median per round) | × bare on the same Node | CPU ms of the server to its first answer (× bare) | idle RSS, server process | idle RSS after ${LATE_IDLE_MS / 1000} s (one start) | idle RSS, whole process tree | first start (new data folder) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of candidates) {
    const s = samples.get(c) ?? [];
    const ms = s.map((x) => x.ms);
    const ratio = median(s.map((x, i) => x.ms / (bare[i]?.ms ?? x.ms)));
    const f = first.get(c);
    const cpu = median(s.map((x) => x.cpuMs));
    const own = c.sameNode ? (samples.get(c.sameNode) ?? []) : bare;
    const ownRatio = median(s.map((x, i) => x.ms / (own[i]?.ms ?? x.ms)));
    lines.push(
      `| ${c.name} | ${median(ms).toFixed(0)} (${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}) | ${c === candidates[0] ? '1' : ratio.toFixed(1)} | ${c.sameNode ? ownRatio.toFixed(1) : '—'} | ${cpu.toFixed(0)} (${(cpu / median(bare.map((x) => x.cpuMs))).toFixed(1)}) | ${(median(s.map((x) => x.rssServer)) / MIB).toFixed(1)} MiB | ${((late.get(c)?.rssServer ?? 0) / MIB).toFixed(1)} MiB | ${(median(s.map((x) => x.rssTree)) / MIB).toFixed(1)} MiB | ${f ? `${f.ms.toFixed(0)} ms` : '—'} |`,
    );
  }
  return lines.join('\n');
}
