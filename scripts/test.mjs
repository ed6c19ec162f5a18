#!/usr/bin/env node
// The whole suite: installs the real components the tests need (DESIGN.md §6), then runs
// every *.test.ts with node:test. `node scripts/test.mjs src/availability` runs a subset;
// options starting with "-" go to every test process (e.g. --test-name-pattern=…).
//
// Files run in parallel, each in its own process (each test starts its servers on port 0 in
// its own mkdtemp folder, so files share nothing). The longest files start first, so the run
// does not end waiting on one slow file started last: durations are remembered from the last
// runs on this machine, with a fixed list of known slow files for a first run. Each file's
// output is printed in one piece when it ends; a summary line closes the run.
// Each file runs directly (`node --import tsx file.test.ts`, no extra --test runner process).
// CRENEAU_TEST_JOBS sets how many files run at once (default: CPUs + 1, at least 3 — most
// files spend their time waiting on Radicale, Chromium or the network stack, not on a CPU).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureSystemPackages } from './system-packages.mjs';

ensureSystemPackages();

/**
 * Slowest first on a machine with no remembered durations (seconds measured on 2 cores while
 * other suites ran; only the order matters).
 */
const KNOWN_SLOW = {
  'scripts/build-binary.test.ts': 300, // ~20 s once the SQLite addon is cached
  'src/web/a11y.browser.test.ts': 85,
  'src/booking/booking.e2e.test.ts': 69,
  'src/privacy/browser.test.ts': 45,
  'src/accounts/accounts.test.ts': 39,
  'src/web/log-silence.test.ts': 21,
  'scripts/privacy-check.test.ts': 20,
  'src/booking/booking.browser.test.ts': 20,
  'src/privacy/settings.test.ts': 18,
  'src/catalog/catalog.test.ts': 17,
};

const started = performance.now();
const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const found = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) found.push(relative(process.cwd(), p));
  }
}
for (const root of roots.length > 0 ? roots : ['src', 'scripts']) {
  if (!existsSync(root)) continue;
  if (statSync(root).isDirectory()) walk(root);
  else found.push(root);
}
if (found.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'creneau-tests');
const durationsFile = join(cacheDir, 'durations.json');
function readDurations() {
  try {
    return JSON.parse(readFileSync(durationsFile, 'utf8'));
  } catch {
    return {};
  }
}
const remembered = readDurations();
const expected = (file) => remembered[file] ?? KNOWN_SLOW[file] ?? 0;
// Longest first; a file never timed here counts as quick, by name for a stable order.
// Files that measure latency (p99 of other pages while a hostile calendar is read) run after the
// others, alone: on two cores, a neighbouring browser test would be measured instead.
const ALONE = /hostile\.test\.ts$/;
const queue = found.filter((f) => !ALONE.test(f)).sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));
const alone = found.filter((f) => ALONE.test(f));

const jobs = Math.max(1, Number(process.env.CRENEAU_TEST_JOBS) || Math.max(3, availableParallelism() + 1));
/** Longest a file may run (the single-binary build alone takes minutes on a cold cache). */
const FILE_TIMEOUT_S = Number(process.env.CRENEAU_TEST_FILE_TIMEOUT) || 1200;
const tapDir = mkdtempSync(join(tmpdir(), 'creneau-test-'));
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failedFiles = [];
const took = {};

/** The counts node:test prints at the end of its TAP output ("# pass 12"). */
function countTap(text) {
  const counts = {};
  for (const key of Object.keys(totals)) {
    const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text);
    counts[key] = m ? Number(m[1]) : 0;
  }
  return counts;
}

function runFile(file, index) {
  const tap = join(tapDir, `${index}.tap`);
  const spec = join(tapDir, `${index}.spec`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx',
        // Reports go to files, not stdout: some tests capture the process's own stdout.
        '--test-reporter=spec', `--test-reporter-destination=${spec}`,
        '--test-reporter=tap', `--test-reporter-destination=${tap}`,
        ...passThrough,
        file,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so a hung file is stopped with the servers it started.
        detached: true,
        env: { ...process.env, CRENEAU_TEST: '1', FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
      },
    );
    const chunks = [];
    // --test-timeout only applies under --test; a file run directly gets this watchdog instead.
    const watchdog = setTimeout(() => {
      chunks.push(Buffer.from(`\n${file}: still running after ${FILE_TIMEOUT_S} s; stopped\n`));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, FILE_TIMEOUT_S * 1000);
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.once('close', (code, signal) => {
      clearTimeout(watchdog);
      const seconds = (performance.now() - t0) / 1000;
      took[file] = Math.round(seconds * 10) / 10;
      const counts = countTap(existsSync(tap) ? readFileSync(tap, 'utf8') : '');
      for (const key of Object.keys(totals)) totals[key] += counts[key];
      const ok = code === 0 && counts.fail === 0 && counts.cancelled === 0;
      if (!ok) {
        failedFiles.push(file);
        // A process that died before reporting a failure still fails the run.
        if (counts.fail === 0 && counts.cancelled === 0) totals.fail += 1;
      }
      process.stdout.write(`\n▶ ${file} (${seconds.toFixed(1)} s${ok ? '' : `, FAILED: exit ${signal ?? code}`})\n`);
      process.stdout.write(Buffer.concat(chunks));
      if (existsSync(spec)) process.stdout.write(readFileSync(spec));
      resolve();
    });
  });
}

let next = 0;
async function worker() {
  while (next < queue.length) {
    const index = next++;
    await runFile(queue[index], index);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
for (const [i, file] of alone.entries()) await runFile(file, queue.length + i);
rmSync(tapDir, { recursive: true, force: true });

try {
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(durationsFile, `${JSON.stringify({ ...readDurations(), ...took }, null, 2)}\n`);
} catch {
  // Only the order of the next run depends on it.
}

const wall = (performance.now() - started) / 1000;
const slowest = Object.entries(took).sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`\n${found.length} files, ${jobs} at a time, ${wall.toFixed(0)} s wall clock; slowest: ${slowest.map(([f, s]) => `${f} ${s} s`).join(', ')}`);
if (failedFiles.length > 0) console.log(`failed files: ${failedFiles.join(', ')}`);
console.log(`ℹ tests ${totals.tests}\nℹ pass ${totals.pass}\nℹ fail ${totals.fail}\nℹ cancelled ${totals.cancelled}\nℹ skipped ${totals.skipped}\nℹ todo ${totals.todo}`);
console.log(`tests: ${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped} skipped`);
process.exit(failedFiles.length > 0 || totals.fail > 0 || totals.cancelled > 0 ? 1 : 0);
