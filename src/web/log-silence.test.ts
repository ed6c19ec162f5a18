import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { repoRoot } from './assets.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

const CANARY = 'CANARY7f3a9e';

/** Starts the real server process and collects everything it prints. */
async function run(mode: string): Promise<{ out: string; url: string; stop: () => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: repoRoot(),
    env: { PATH: process.env.PATH, CRENEAU_DATA_DIR: tempFolder('log-'), CRENEAU_PORT: '0', CRENEAU_HOST: '127.0.0.1', CRENEAU_LOG: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line: ${out}`)), 20000);
    const check = () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
  });
  return {
    out,
    url,
    stop: async () => {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
      return out;
    },
  };
}

/** Requests carrying the canary in path, query, headers, cookies and body. */
async function sendCanaries(url: string): Promise<void> {
  const headers = { 'user-agent': `${CANARY}-agent`, 'x-forwarded-for': '203.0.113.7', cookie: `x=${CANARY}`, referer: `https://${CANARY}.example/`, 'accept-language': CANARY };
  await fetch(`${url}/${CANARY}/path?email=${CANARY}@example.com`, { headers });
  await fetch(`${url}/@${CANARY}`, { headers });
  await fetch(`${url}/lang`, { method: 'POST', headers, body: new URLSearchParams({ lang: CANARY, back: `/${CANARY}` }) });
  await fetch(`${url}/lang`, { method: 'POST', headers, body: new URLSearchParams({ first_name: CANARY.repeat(5000) }) });
  await fetch(`${url}/%E0%A4%A${CANARY}`, { headers });
  await fetch(`${url}/healthz?${CANARY}`, { headers });
}

for (const mode of ['off', 'errors', 'debug']) {
  test(`CRENEAU_LOG=${mode}: requests with canaries leave no trace in stdout/stderr`, async () => {
    const server = await run(mode);
    await sendCanaries(server.url);
    const out = await server.stop();
    assert.ok(!out.includes(CANARY), `canary printed in ${mode} mode:\n${out}`);
    assert.ok(!out.includes('203.0.113.7'), 'client address printed');
    if (mode === 'off') assert.equal(out.trim().split('\n').length, 1, `off mode printed more than the start-up line:\n${out}`);
  });
}

test('CRENEAU_LOG=off: the start-up line carries the one-time setup link, and only that link opens /setup', async () => {
  const server = await run('off');
  try {
    const link = /first run: open (\S+\/setup\?token=([A-Za-z0-9_-]{22})) /.exec(server.out)?.[1];
    assert.ok(link, `no setup link in the start-up line: ${server.out}`);
    const path = new URL(link).pathname + new URL(link).search;
    assert.equal((await fetch(`${server.url}${path}`)).status, 200, 'the printed link opens the wizard');
    const without = await fetch(`${server.url}/setup`);
    assert.equal(without.status, 403);
    assert.match(await without.text(), /docker compose logs creneau/);
  } finally {
    await server.stop();
  }
});
