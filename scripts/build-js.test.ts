import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFERRED, buildJs } from './build-js.mjs';
import { importFromClosedPort } from './test-support/deferred-probe.js';

// What `npm start` and `npm run cli` run: the compiled dist/main.js, from another folder, so
// assets, locales and the SQLite addon are found relative to the compiled files.

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = join(ROOT, 'dist/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'creneau-build-js-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const env = (dataDir: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  CRENEAU_DATA_DIR: dataDir,
  CRENEAU_HOST: '127.0.0.1',
  CRENEAU_PORT: '0',
});

test('npm start serves the compiled program: pages, locales, static files, /healthz', { timeout: 120_000 }, async (t) => {
  await buildJs({ quiet: true });
  assert.equal(await buildJs({ quiet: true }), false, 'a second build is skipped');

  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, 'serve'], { cwd: tmp, env: env(join(tmp, 'data')), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    let base = '';
    const deadline = Date.now() + 60_000;
    while (!base && Date.now() < deadline && child.exitCode === null) {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      const res = m ? await fetch(`http://127.0.0.1:${m[1]}/healthz`).catch(() => null) : null;
      if (res?.status === 200) base = `http://127.0.0.1:${m?.[1] ?? ''}`;
      else await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(base, `the compiled server did not answer /healthz:\n${out}`);
    t.diagnostic(`first 200 on /healthz after ${(performance.now() - started).toFixed(0)} ms`);

    const home = await fetch(`${base}/`, { redirect: 'manual' });
    const locked = await fetch(new URL(home.headers.get('location') ?? '/', base));
    assert.equal(locked.status, 403, 'the first-run wizard needs the token from the start-up line');
    const token = /\/setup\?token=([\w-]+)/.exec(out)?.[1];
    assert.ok(token, `the start-up line carries the setup URL:\n${out}`);
    const page = await fetch(`${base}/setup?token=${token}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<html lang="en">/, 'views rendered from the repository');
    const fr = await fetch(`${base}/privacy`, { headers: { 'accept-language': 'fr' } });
    assert.match(await fr.text(), /<html lang="fr">/, 'French locale loaded');
    const css = /href="(\/static\/[^"]+\.css[^"]*)"/.exec(html);
    assert.ok(css, 'the page links its stylesheet');
    const cssRes = await fetch(`${base}${css[1] ?? ''}`);
    assert.equal(cssRes.status, 200);
    assert.match(cssRes.headers.get('content-type') ?? '', /text\/css/);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `exit 0 on SIGTERM:\n${out}`);
  }
});

test('npm run cli: help, a one-shot command on the database above, and an unknown one', { timeout: 60_000 }, async () => {
  await buildJs({ quiet: true });
  const help = spawnSync(process.execPath, [MAIN, '--help'], { cwd: tmp, env: env(join(tmp, 'unused')), encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /rotate-key/);

  const dataDir = join(tmp, 'data'); // the database the server above created
  const audit = spawnSync(process.execPath, [MAIN, 'audit', '--json'], { cwd: tmp, env: env(dataDir), encoding: 'utf8' });
  assert.equal(audit.status, 0, audit.stderr);
  assert.equal((JSON.parse(audit.stdout) as { format: string }).format, 'creneau-audit/1');

  const usage = spawnSync(process.execPath, [MAIN, 'backup'], { cwd: tmp, env: env(dataDir), encoding: 'utf8' });
  assert.equal(usage.status, 2, 'a usage error exits 2');
  assert.match(usage.stderr, /Usage: creneau backup FILE/, 'with the help of the lazily loaded command');

  const unknown = spawnSync(process.execPath, [MAIN, 'frobnicate'], { cwd: tmp, env: env(dataDir), encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

/** Spawns `node dist/main.js serve`, waits for its first 200 on /healthz; returns it and its output. */
async function serveUntilHealthy(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [MAIN, 'serve'], { cwd: tmp, env: { ...env(dataDir), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let healthy = false;
  const deadline = Date.now() + 30_000;
  while (!healthy && Date.now() < deadline && child.exitCode === null) {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    healthy = (m ? await fetch(`http://127.0.0.1:${m[1]}/healthz`).catch(() => null) : null)?.status === 200;
    if (!healthy) await new Promise((r) => setTimeout(r, 10));
  }
  if (!healthy) {
    child.kill('SIGKILL');
    assert.fail(`the compiled server did not answer /healthz:\n${out.slice(-2000)}`);
  }
  return { child, output: () => out, exited };
}

async function stopServer(s: { child: ChildProcess; exited: Promise<number | null> }): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

test('the code cache: the first start writes it, the next ones use it, a damaged one is replaced', { timeout: 120_000 }, async () => {
  await buildJs({ quiet: true });
  const folder = join(ROOT, 'dist/code-cache');
  rmSync(folder, { recursive: true, force: true });
  const dataDir = join(tmp, 'cache-data');

  // The first start compiles and, a second after loading, writes what it compiled.
  const first = await serveUntilHealthy(dataDir);
  let written: string[] = [];
  const deadline = Date.now() + 20_000;
  while (written.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    written = existsSync(folder) ? readdirSync(folder).filter((n) => !n.startsWith('.')) : [];
  }
  assert.equal(await stopServer(first), 0, first.output());
  assert.equal(written.length, 1, `one cache file: ${written.join(', ')}`);
  const name = written[0] ?? '';
  assert.match(name, new RegExp(`^[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8$`), 'named by the bundle, the Node version and the architecture');
  const file = join(folder, name);
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 100_000, `the cache holds the compiled program (${bytes.length} bytes)`);

  // A start that V8 accepts the cache for leaves it alone (it would rewrite a rejected one).
  const before = statSync(file).mtimeMs;
  const second = await serveUntilHealthy(dataDir);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(await stopServer(second), 0, second.output());
  assert.equal(statSync(file).mtimeMs, before, 'the cache was used, not rewritten');

  // Garbage of the same name: V8 refuses it, the server starts all the same and writes a good one.
  writeFileSync(file, Buffer.alloc(bytes.length, 0x5a));
  const third = await serveUntilHealthy(dataDir);
  const home = await fetch(`http://127.0.0.1:${/listening on 127\.0\.0\.1:(\d+)/.exec(third.output())?.[1] ?? ''}/privacy`);
  assert.equal(home.status, 200, 'pages render after a damaged cache');
  const replaced = Date.now() + 20_000;
  while (readFileSync(file)[0] === 0x5a && Date.now() < replaced) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await stopServer(third), 0, third.output());
  assert.notEqual(readFileSync(file)[0], 0x5a, 'the damaged cache was replaced');
  assert.deepEqual(readdirSync(folder), [name], 'no temporary file left behind');
});

test('deferred packages: a start loads none of them; the first use loads the package through its stand-in', { timeout: 60_000 }, async () => {
  await buildJs({ quiet: true });
  // NODE_DEBUG=module lists CommonJS loads, which is how a stand-in loads its package.
  const started = await serveUntilHealthy(join(tmp, 'deferred-data'), { NODE_DEBUG: 'module' });
  await stopServer(started);
  const out = started.output();
  assert.match(out, /Module\._load REQUEST/, 'NODE_DEBUG=module output was captured');
  assert.doesNotMatch(out, /deferred[/\\][\w-]+\.cjs/, 'no deferred package is loaded by a start');

  // The compiled program's stand-in for tsdav, used for real: a CalDAV import reaches the
  // network (a closed port) instead of failing to load tsdav (which dav() reports as "malformed").
  const imported = await importFromClosedPort([process.execPath, MAIN], tmp, env(join(tmp, 'deferred-data')), 'dora');
  assert.match(imported.stderr, /deferred[/\\]tsdav\.cjs/, 'the first call loaded the package');

  // Every stand-in in the bundle names a package bundle that exists and exports what it forwards to.
  const bundle = readFileSync(join(ROOT, 'dist/creneau.cjs'), 'utf8');
  const load = createRequire(join(ROOT, 'dist/creneau.cjs'));
  for (const [pkg, spec] of Object.entries(DEFERRED)) {
    assert.ok(bundle.includes(`require("./vendor/deferred/${spec.file}.cjs")`), `the bundle's stand-in for ${pkg}`);
    const real = load(`./vendor/deferred/${spec.file}.cjs`) as Record<string, unknown> & { default?: Record<string, unknown> };
    for (const fn of spec.named ?? []) assert.equal(typeof real[fn], 'function', `${pkg}.${fn}`);
    for (const fn of spec.default ?? []) assert.equal(typeof real.default?.[fn], 'function', `${pkg} default.${fn}`);
  }

  // And the packages work from their bundles: passkey options, an e-mail.
  const webauthn = load('./vendor/deferred/simplewebauthn-server.cjs') as { generateRegistrationOptions: (o: object) => Promise<{ rp: { id: string }; challenge: string }> };
  const options = await webauthn.generateRegistrationOptions({ rpName: 'Creneau', rpID: 'booking.example.com', userName: 'alice' });
  assert.equal(options.rp.id, 'booking.example.com');
  assert.ok(options.challenge.length >= 16);
  const mailer = load('./vendor/deferred/nodemailer.cjs') as { default: { createTransport: (o: object) => { sendMail: (m: object) => Promise<{ message: string }> } } };
  const sent = await mailer.default.createTransport({ jsonTransport: true }).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'Hello', text: 'Hi' });
  assert.match(sent.message, /"subject":"Hello"/);
});
