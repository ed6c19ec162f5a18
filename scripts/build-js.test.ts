import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildJs } from './build-js.mjs';

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

test('deferred packages: serve does not load them; their stand-ins in dist/ load and forward to the real code', { timeout: 60_000 }, async () => {
  await buildJs({ quiet: true });
  // What a start loads up to its first answer: no deferred package's bundle (NODE_DEBUG=module
  // lists CommonJS loads, which is how a stand-in loads its package: the second process shows it).
  const child = spawn(process.execPath, [MAIN, 'serve'], { cwd: tmp, env: { ...env(join(tmp, 'deferred-data')), NODE_DEBUG: 'module' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    let healthy = false;
    const deadline = Date.now() + 30_000;
    while (!healthy && Date.now() < deadline && child.exitCode === null) {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      healthy = (m ? await fetch(`http://127.0.0.1:${m[1]}/healthz`).catch(() => null) : null)?.status === 200;
      if (!healthy) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(healthy, out.slice(-2000));
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  assert.match(out, /Module\._load REQUEST/, 'NODE_DEBUG=module output was captured');
  assert.doesNotMatch(out, /deferred[/\\][\w-]+\.cjs/, 'no deferred package is loaded by a start');
  const used = spawnSync(process.execPath, ['--input-type=module', '-e', `(await import(${JSON.stringify(join(ROOT, 'dist/vendor/deferred/jpeg-js.js'))})).default.encode({ width: 1, height: 1, data: new Uint8Array(4) }, 50);`], {
    cwd: tmp,
    env: { PATH: process.env.PATH, NODE_DEBUG: 'module' },
    encoding: 'utf8',
  });
  assert.equal(used.status, 0, used.stderr);
  assert.match(used.stderr, /deferred[/\\]jpeg-js\.cjs/, 'the first call loads the package');

  const jpeg = (await import(join(ROOT, 'dist/vendor/deferred/jpeg-js.js'))) as { default: { encode: (img: { width: number; height: number; data: Uint8Array }, q: number) => { data: Uint8Array }; decode: (b: Uint8Array, o: object) => { width: number; height: number } } };
  const encoded = jpeg.default.encode({ width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]) }, 90);
  assert.deepEqual([encoded.data[0], encoded.data[1]], [0xff, 0xd8], 'a JPEG came out');
  const decoded = jpeg.default.decode(encoded.data, { useTArray: true });
  assert.deepEqual([decoded.width, decoded.height], [2, 1]);

  const webauthn = (await import(join(ROOT, 'dist/vendor/deferred/simplewebauthn-server.js'))) as { generateRegistrationOptions: (o: object) => Promise<{ rp: { id: string }; challenge: string }> };
  const options = await webauthn.generateRegistrationOptions({ rpName: 'Creneau', rpID: 'booking.example.com', userName: 'alice' });
  assert.equal(options.rp.id, 'booking.example.com');
  assert.ok(options.challenge.length >= 16);

  const tsdav = (await import(join(ROOT, 'dist/vendor/deferred/tsdav.js'))) as { davRequest: (o: object) => Promise<unknown> };
  await assert.rejects(tsdav.davRequest({ url: 'http://127.0.0.1:9/', init: { method: 'PROPFIND', headers: {}, body: '' }, fetch: () => Promise.reject(new Error('offline on purpose')) }), /offline on purpose/);
});
