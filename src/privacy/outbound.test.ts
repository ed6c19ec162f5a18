import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../web/assets.js';

// A cheap guard for "the server contacts only the configured calendar hosts, Google and the
// SMTP host; no telemetry, no update check": network code may live only in src/calendars/
// and src/mail/. Anything else that opens a connection must be added here with a reason.

const ROOT = repoRoot();
const NETWORK_AREAS = ['src/calendars/', 'src/mail/'];
const EXCEPTIONS: Readonly<Record<string, string>> = {
  'src/cli/healthcheck.ts': 'asks the local server for /healthz on the loopback address only',
};

const RULES: readonly { what: string; re: RegExp }[] = [
  { what: 'fetch(', re: /(?<![\w.$])fetch\s*\(/ },
  { what: 'globalThis.fetch', re: /globalThis\.fetch\b/ },
  { what: 'http(s).request/get', re: /\bhttps?\.(request|get)\s*\(/ },
  { what: 'net/tls connect', re: /\b(net|tls)\.(connect|createConnection)\s*\(/ },
  { what: 'network module import', re: /from\s+['"](node:)?(dns|dns\/promises|https|tls|dgram|http2)['"]/ },
  { what: 'value import from http or net', re: /import\s+(?!type\b)[^;]*from\s+['"](node:)?(http|net)['"]/ },
  { what: 'HTTP/mail client package', re: /from\s+['"](undici|axios|node-fetch|got|ky|superagent|nodemailer|tsdav|passport-google-oauth20|oauth)['"]/ },
  { what: 'WebSocket / EventSource', re: /\bnew\s+(WebSocket|EventSource)\s*\(/ },
];

/** Violations in one file's text (exported for the self-test below). */
function violations(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*(\/\/|\*)/.test(line)) continue;
    for (const r of RULES) if (r.re.test(line) && !/^\s*import\s+type\b/.test(line)) found.push(`${r.what}: ${line.trim()}`);
  }
  return found;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('the guard recognises network code (it can fail)', () => {
  assert.equal(violations("const r = await fetch('https://telemetry.example/ping');").length, 1);
  assert.equal(violations("import https from 'node:https';").length, 1);
  assert.equal(violations("import { request } from 'node:http';").length, 1);
  assert.equal(violations('const s = net.connect(443, host);').length, 1);
  assert.equal(violations("import dns from 'dns';").length, 1);
  assert.equal(violations("import type { Server } from 'node:http';").length, 0);
  assert.equal(violations("import { isIP } from 'node:net';").length, 1, 'value imports from net are flagged unless allowed by name');
  assert.equal(violations('const res = await connected.provider.busy(fetch);').length, 0);
});

test('no network code outside src/calendars/ and src/mail/ (telemetry, update checks, beacons)', () => {
  const offenders: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, file).split('\\').join('/');
    if (NETWORK_AREAS.some((a) => rel.startsWith(a)) || rel in EXCEPTIONS) continue;
    // `import { isIP } from 'node:net'` only validates addresses and `createServer` from
    // node:http only listens (the serve command); allow exactly those.
    const text = readFileSync(file, 'utf8')
      .replace(/^import\s*\{\s*isIP\s*\}\s*from\s*['"]node:net['"];?$/gm, '')
      .replace(/^import\s*\{\s*createServer(,\s*type\s+\w+)*\s*\}\s*from\s*['"]node:http['"];?$/gm, '');
    for (const v of violations(text)) offenders.push(`${rel}: ${v}`);
  }
  assert.deepEqual(offenders, [], 'network access outside the calendar and mail areas');
});

test('no telemetry, error-reporting or update-check dependency', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const names = Object.keys(pkg.dependencies ?? {});
  const suspicious = names.filter((n) => /sentry|posthog|analytics|segment|mixpanel|amplitude|bugsnag|rollbar|newrelic|datadog|update-notifier|telemetry|opentelemetry|honeybadger|logrocket/i.test(n));
  assert.deepEqual(suspicious, []);
});
