import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createApp } from '../app.js';
import { boot } from '../boot.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../lib/log.js';
import { tempFolder } from '../../scripts/test-support/temp.js';

async function serve(env: Record<string, string>): Promise<{ base: string; lines: string[]; close: () => Promise<void> }> {
  const config = loadConfig({ CRENEAU_DATA_DIR: tempFolder('baseurl-'), CRENEAU_PORT: '0', ...env });
  const lines: string[] = [];
  const deps = await boot(config, { log: createLogger(config.log, (l) => lines.push(l)) });
  const server = createApp(deps).app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lines,
    close: async () => {
      await new Promise((r) => server.close(r));
      await deps.db.destroy();
    },
  };
}

const viaHttpsProxy = { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'booking.example.com' } };

test('an http:// base URL behind a proxy that forwards HTTPS is reported once, with the fix', async () => {
  const s = await serve({ CRENEAU_BASE_URL: 'http://booking.example.com', CRENEAU_TRUST_PROXY: 'on' });
  try {
    await fetch(`${s.base}/healthz`, viaHttpsProxy);
    await fetch(`${s.base}/healthz`, viaHttpsProxy);
    const warnings = s.lines.filter((l) => l.startsWith('warning '));
    assert.equal(warnings.length, 1, s.lines.join('\n'));
    assert.match(warnings[0] ?? '', /CRENEAU_BASE_URL=https:\/\/booking\.example\.com\//);
  } finally {
    await s.close();
  }
});

test('nothing is reported when the base URL is https, or when the proxy is not trusted', async () => {
  const cases: Record<string, string>[] = [{ CRENEAU_BASE_URL: 'https://booking.example.com', CRENEAU_TRUST_PROXY: 'on' }, { CRENEAU_BASE_URL: 'http://booking.example.com' }];
  for (const env of cases) {
    const s = await serve(env);
    try {
      const res = await fetch(`${s.base}/healthz`, viaHttpsProxy);
      assert.equal(res.status, 200);
      assert.deepEqual(s.lines.filter((l) => l.startsWith('warning ')), [], JSON.stringify(env));
    } finally {
      await s.close();
    }
  }
});
