import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { insertStaff } from '../accounts/accounts.repo.js';
import { createApp } from '../app.js';
import { boot } from '../boot.js';
import { loadConfig } from '../config.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

let base = '';
let close: () => Promise<void> = async () => {};

before(async () => {
  const config = loadConfig({ CRENEAU_DATA_DIR: tempFolder('web-'), CRENEAU_LOG: 'off' });
  const deps = await boot(config);
  // An owner exists, so / is the landing page (without one it redirects to /setup).
  await insertStaff(deps.db, { username: 'owner', displayName: 'Owner', email: 'owner@example.com', passwordHash: null, locale: 'en', timeZone: 'UTC', isOwner: true }, Date.now());
  const { app } = createApp(deps);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    await new Promise((r) => server.close(r));
    await deps.db.destroy();
  };
});
after(() => close());

function assertStrictHeaders(res: Response, what: string): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/, `${what}: CSP`);
  assert.match(csp, /script-src 'self'(;|$)/, `${what}: no inline script`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, what);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: not framable`);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(res.headers.get('x-powered-by'), null, what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('set-cookie'), null, `${what}: no cookie for a visitor`);
}

test('strict headers on every kind of response', async () => {
  const cases: [string, RequestInit, number][] = [
    ['/', {}, 200],
    ['/healthz', {}, 200],
    ['/nope', {}, 404],
    ['/', { method: 'PUT' }, 405],
    ['/lang', { method: 'POST', body: new URLSearchParams({ lang: 'fr', x: 'y'.repeat(40000) }) }, 413],
    ['/lang', { method: 'POST', body: new URLSearchParams({ lang: 'de' }) }, 400],
  ];
  const css = await fetch(`${base}/`).then((r) => r.text()).then((html) => /href="(\/static\/css\/app\.css\?v=[0-9a-f]+)"/.exec(html)?.[1]);
  assert.ok(css, 'stylesheet linked with a content hash');
  cases.push([css, {}, 200]);
  for (const [path, init, status] of cases) {
    const res = await fetch(`${base}${path}`, { redirect: 'manual', ...init });
    assert.equal(res.status, status, `${init.method ?? 'GET'} ${path}`);
    assertStrictHeaders(res, `${init.method ?? 'GET'} ${path}`);
    if (!path.startsWith('/static/')) assert.equal(res.headers.get('cache-control'), 'no-store', path);
  }
  const s = await fetch(`${base}${css}`);
  assert.match(s.headers.get('cache-control') ?? '', /immutable/);
  assert.equal(await fetch(`${base}/healthz`).then((r) => r.json()).then((j) => JSON.stringify(j)), '{"status":"ok"}');
});

test('TRACE is refused', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${base}/`, { method: 'TRACE' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 405);
});

test('error pages speak the visitor language and leak no internals', async () => {
  const en = await fetch(`${base}/missing-page`, { headers: { 'accept-language': 'en' } });
  const enHtml = await en.text();
  assert.equal(en.status, 404);
  assert.match(enHtml, /<html lang="en">/);
  assert.match(enHtml, /Page not found/);
  const fr = await fetch(`${base}/missing-page`, { headers: { 'accept-language': 'fr-FR,fr;q=0.9' } });
  const frHtml = await fr.text();
  assert.match(frHtml, /<html lang="fr">/);
  assert.match(frHtml, /Page introuvable/);
  const big = await fetch(`${base}/lang`, { method: 'POST', headers: { 'accept-language': 'fr' }, body: new URLSearchParams({ a: 'b'.repeat(50000) }) });
  const bigHtml = await big.text();
  assert.equal(big.status, 413);
  assert.match(bigHtml, /Trop volumineux/);
  assert.doesNotMatch(bigHtml, /PayloadTooLargeError|at .*\.js:\d+|node_modules/);
});

test('a cross-origin POST is refused; the language switch sets only the lang cookie', async () => {
  const evil = await fetch(`${base}/lang`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: new URLSearchParams({ lang: 'fr' }), redirect: 'manual' });
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get('set-cookie'), null);
  const ok = await fetch(`${base}/lang`, { method: 'POST', body: new URLSearchParams({ lang: 'fr', back: '//evil.example/' }), redirect: 'manual' });
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), '/', 'no open redirect');
  const cookie = ok.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^creneau_lang=fr; Path=\/; SameSite=Lax; HttpOnly; Max-Age=\d+$/);
  const page = await fetch(`${base}/`, { headers: { cookie: 'creneau_lang=fr', 'accept-language': 'en' } });
  assert.match(await page.text(), /Prendre rendez-vous/);
});
