import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildBinary, missingToolchain, type BuildResult } from './build-binary.js';
import { importFromClosedPort } from './test-support/deferred-probe.js';

// Builds dist/creneau (the Node 24 base and the compiled addon are cached outside the clone,
// see buildCacheDir(), so only the first build on a machine compiles SQLite) and uses it the
// way an admin would: from a folder with no checkout in sight.

const why = missingToolchain();
const tmp = mkdtempSync(join(tmpdir(), 'creneau-binary-'));
const cwd = join(tmp, 'elsewhere');
const cache = join(tmp, 'cache');
mkdirSync(cwd);
let built: BuildResult | null = null;

before(async () => {
  if (why) return;
  built = await buildBinary(() => {});
}, { timeout: 30 * 60_000 });

after(() => rmSync(tmp, { recursive: true, force: true }));

function env(dataDir: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: tmp, XDG_CACHE_HOME: cache, CRENEAU_DATA_DIR: dataDir, CRENEAU_HOST: '127.0.0.1', CRENEAU_PORT: '0' };
}

interface Running {
  readonly port: number;
  readonly msToHealthy: number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  output(): string;
}

/** Starts `creneau serve` on a free port; resolves once /healthz answers 200. */
async function serve(dataDir: string): Promise<Running> {
  assert.ok(built);
  const started = performance.now();
  const child = spawn(built.binary, ['serve'], { cwd, env: env(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) {
      port = Number(m[1]);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      if (res?.status === 200) {
        const msToHealthy = performance.now() - started;
        return {
          port,
          msToHealthy,
          output: () => out,
          stop: async (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        };
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(`the binary did not become healthy:\n${out}`);
}

test('the single binary builds, starts anywhere, serves, backs up and stops on SIGTERM', { skip: why ?? false, timeout: 120_000 }, async (t) => {
  assert.ok(built);
  t.diagnostic(`binary ${(built.bytes / 1024 / 1024).toFixed(1)} MiB, Node ${built.nodeVersion}, stripped ${String(built.stripped)}, build ${built.seconds.toFixed(1)} s`);

  const help = spawnSync(built.binary, ['--help'], { cwd, env: env(join(tmp, 'unused')), encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /backup FILE/);
  assert.match(help.stdout, /healthcheck/);
  assert.equal(help.stderr, '', 'no SEA warning or anything else on stderr');

  // An addon folder left by an older version, old enough to be cleaned up.
  const stale = join(cache, 'creneau', 'addon-000000000000');
  mkdirSync(stale, { recursive: true });
  writeFileSync(join(stale, 'better_sqlite3.node'), 'old');
  utimesSync(stale, new Date(2020, 0, 1), new Date(2020, 0, 1));

  const dataDir = join(tmp, 'data');
  const server = await serve(dataDir);
  try {
    t.diagnostic(`cold start to first healthy /healthz: ${server.msToHealthy.toFixed(0)} ms`);
    const base = `http://127.0.0.1:${server.port}`;
    const home = await fetch(`${base}/`, { redirect: 'manual' });
    assert.ok(home.status === 200 || home.status === 303 || home.status === 302, `GET / answered ${home.status}`);
    const locked = await fetch(new URL(home.headers.get('location') ?? '/', base));
    assert.equal(locked.status, 403, 'the first-run wizard needs the token from the start-up line');
    const token = /\/setup\?token=([\w-]+)/.exec(server.output())?.[1];
    assert.ok(token, `the start-up line carries the setup URL:\n${server.output()}`);
    const page = await fetch(`${base}/setup?token=${token}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<html lang="en">/, 'views and locales come from the binary');
    const css = /href="(\/static\/[^"]+\.css[^"]*)"/.exec(html);
    assert.ok(css, 'the page links its stylesheet');
    const cssRes = await fetch(`${base}${css[1] ?? ''}`);
    assert.equal(cssRes.status, 200);
    assert.match(cssRes.headers.get('content-type') ?? '', /text\/css/);

    const db = join(dataDir, 'creneau.sqlite');
    assert.ok(existsSync(db), 'the SQLite file is written in CRENEAU_DATA_DIR');
    assert.equal(readFileSync(db).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');

    const health = spawnSync(built.binary, ['healthcheck'], { cwd, env: { ...env(dataDir), CRENEAU_PORT: String(server.port) }, encoding: 'utf8' });
    assert.equal(health.status, 0, health.stderr);

    // Online backup while the server runs, to a relative path in the caller's folder.
    const backup = spawnSync(built.binary, ['backup', 'copy.sqlite'], { cwd, env: env(dataDir), encoding: 'utf8' });
    assert.equal(backup.status, 0, backup.stderr);
    assert.equal(readFileSync(join(cwd, 'copy.sqlite')).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'still serving after the backup');

    // The CLI's outcomes in the binary, and a deferred package (tsdav) compiled from its embedded
    // copy on first use: a CalDAV import reaches the network (a closed port here) instead of
    // failing to load tsdav (which dav() would report as "malformed").
    await importFromClosedPort([built.binary], cwd, env(dataDir), 'alice');
    const taken = spawnSync(built.binary, ['user', 'create', '--username', 'alice', '--email', 'other@example.com'], { cwd, env: env(dataDir), encoding: 'utf8' });
    assert.equal(taken.status, 1, taken.stderr);
    assert.match(taken.stderr, /^creneau user create: --username: /);

    const addons = readdirSync(join(cache, 'creneau'));
    assert.equal(addons.length, 1, `one addon folder, the stale one removed: ${addons.join(', ')}`);
    assert.match(addons[0] ?? '', /^addon-[0-9a-f]{12}$/);
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, `exit 0 on SIGTERM:\n${server.output()}`);
  }

  // Second start: the addon is reused, nothing to extract.
  const again = await serve(dataDir);
  t.diagnostic(`warm start (addon reused) to first healthy /healthz: ${again.msToHealthy.toFixed(0)} ms`);
  assert.equal(await again.stop('SIGTERM'), 0);

  const down = spawnSync(built.binary, ['healthcheck', '--timeout', '2'], { cwd, env: { ...env(dataDir), CRENEAU_PORT: String(again.port) }, encoding: 'utf8' });
  assert.equal(down.status, 1, 'healthcheck fails once the server is gone');
});
