import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, redactedConfig } from './config.js';
import { tempFolder } from '../scripts/test-support/temp.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

function fails(env: Record<string, string>, variable: string, fix: RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => err instanceof ConfigError && err.variable === variable && fix.test(err.message) && !err.message.includes('\n'),
    `${JSON.stringify(env)} should fail on ${variable}`,
  );
}

test('defaults match DESIGN.md §5', () => {
  const c = loadConfig({});
  assert.equal(c.baseUrl.toString(), 'http://localhost:3000/');
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 3000);
  assert.equal(c.log, 'errors');
  assert.equal(c.defaultLocale, 'en');
  assert.equal(c.trustProxy, false);
  assert.equal(c.google, null);
  assert.equal(c.smtp, null);
  assert.equal(c.secretKey, null);
  assert.equal(c.secretKeySource, 'generated');
  assert.deepEqual(c.caldavAllowHosts, []);
  assert.ok(c.dataDir.endsWith('/data'));
  assert.ok(Object.isFrozen(c));
});

test('every bad value stops with one line naming the variable and the fix', () => {
  fails({ CRENEAU_BASE_URL: 'booking.example.com' }, 'CRENEAU_BASE_URL', /absolute http\(s\) URL/);
  fails({ CRENEAU_BASE_URL: 'ftp://x.example' }, 'CRENEAU_BASE_URL', /absolute/);
  fails({ CRENEAU_BASE_URL: 'https://x.example/?a=1' }, 'CRENEAU_BASE_URL', /query/);
  fails({ CRENEAU_PORT: '70000' }, 'CRENEAU_PORT', /between 0 and 65535/);
  fails({ CRENEAU_PORT: 'http' }, 'CRENEAU_PORT', /port number/);
  fails({ CRENEAU_HOST: 'not a host' }, 'CRENEAU_HOST', /IP address or host name/);
  fails({ CRENEAU_LOG: 'verbose' }, 'CRENEAU_LOG', /off, errors or debug/);
  fails({ CRENEAU_DEFAULT_LOCALE: 'de' }, 'CRENEAU_DEFAULT_LOCALE', /en, fr/);
  fails({ CRENEAU_TRUST_PROXY: 'maybe' }, 'CRENEAU_TRUST_PROXY', /on or off/);
  fails({ CRENEAU_SECRET_KEY: 'c2hvcnQ=' }, 'CRENEAU_SECRET_KEY', /openssl rand -base64 32/);
  fails({ CRENEAU_SECRET_KEY: KEY, CRENEAU_SECRET_KEY_FILE: '/x' }, 'CRENEAU_SECRET_KEY', /not both/);
  fails({ CRENEAU_SECRET_KEY_FILE: '/nonexistent/key' }, 'CRENEAU_SECRET_KEY_FILE', /cannot read/);
  fails({ CRENEAU_GOOGLE_CLIENT_ID: 'id' }, 'CRENEAU_GOOGLE_CLIENT_SECRET', /both/);
  fails({ CRENEAU_GOOGLE_CLIENT_SECRET: 's' }, 'CRENEAU_GOOGLE_CLIENT_ID', /both/);
  fails({ CRENEAU_GOOGLE_CLIENT_ID: 'i', CRENEAU_GOOGLE_CLIENT_SECRET: 's', CRENEAU_GOOGLE_OAUTH_URL: 'nope' }, 'CRENEAU_GOOGLE_OAUTH_URL', /URL/);
  fails({ CRENEAU_GOOGLE_CLIENT_ID: 'i', CRENEAU_GOOGLE_CLIENT_SECRET: 's', CRENEAU_GOOGLE_API_URL: 'nope' }, 'CRENEAU_GOOGLE_API_URL', /URL/);
  fails({ CRENEAU_SMTP_URL: 'mail.example.com' }, 'CRENEAU_SMTP_URL', /smtps:\/\//);
  fails({ CRENEAU_SMTP_URL: 'http://mail.example.com' }, 'CRENEAU_SMTP_URL', /smtp:\/\//);
  fails({ CRENEAU_SMTP_URL: 'smtp://mail.example.com' }, 'CRENEAU_MAIL_FROM', /sender address/);
  fails({ CRENEAU_CALDAV_ALLOW_HOSTS: '10.0.0.0/99' }, 'CRENEAU_CALDAV_ALLOW_HOSTS', /CIDR/);
  fails({ CRENEAU_CALDAV_ALLOW_HOSTS: 'nas.local, bad_host!' }, 'CRENEAU_CALDAV_ALLOW_HOSTS', /bad_host!/);
  fails({ CRENEAU_EMBED_ORIGINS: 'https://www.example.com/page' }, 'CRENEAU_EMBED_ORIGINS', /origin/);
});

test('secrets accept a _FILE twin and are redacted', () => {
  const dir = tempFolder('config-');
  writeFileSync(join(dir, 'key'), `${KEY}\n`);
  writeFileSync(join(dir, 'google'), 'google-secret-value\n');
  writeFileSync(join(dir, 'smtp'), 'smtps://user:smtp-password@mail.example.com:465');
  const c = loadConfig({
    CRENEAU_SECRET_KEY_FILE: join(dir, 'key'),
    CRENEAU_GOOGLE_CLIENT_ID: 'client-id',
    CRENEAU_GOOGLE_CLIENT_SECRET_FILE: join(dir, 'google'),
    CRENEAU_SMTP_URL_FILE: join(dir, 'smtp'),
    CRENEAU_MAIL_FROM: 'Salon <booking@example.com>',
    CRENEAU_CALDAV_ALLOW_HOSTS: 'nas.local 192.168.1.0/24,127.0.0.1',
    CRENEAU_EMBED_ORIGINS: 'https://www.example.com',
    CRENEAU_TRUST_PROXY: 'on',
  });
  assert.deepEqual(c.secretKey, Buffer.alloc(32, 7));
  assert.equal(c.secretKeySource, 'file');
  assert.equal(c.google?.clientSecret, 'google-secret-value');
  assert.equal(c.smtp?.url, 'smtps://user:smtp-password@mail.example.com:465');
  assert.deepEqual(c.caldavAllowHosts, ['nas.local', '192.168.1.0/24', '127.0.0.1']);
  assert.deepEqual(c.embedOrigins, ['https://www.example.com']);
  assert.equal(c.trustProxy, true);
  const printed = JSON.stringify(redactedConfig(c));
  for (const secret of ['google-secret-value', 'smtp-password', KEY]) assert.ok(!printed.includes(secret), `${secret} leaked`);
  assert.ok(printed.includes('mail.example.com'));
});

test('without CRENEAU_BASE_URL, links follow the port Creneau listens on', () => {
  const c = loadConfig({ CRENEAU_PORT: '8080' });
  assert.equal(c.baseUrl.toString(), 'http://localhost:8080/');
  assert.deepEqual(c.warnings, []);
});

test('a base URL on this machine with another port than the listening one is reported at start', () => {
  const wrong = loadConfig({ CRENEAU_PORT: '8080', CRENEAU_BASE_URL: 'http://localhost:3000' });
  assert.equal(wrong.warnings.length, 1);
  assert.match(wrong.warnings[0] ?? '', /^CRENEAU_BASE_URL: .*port 3000.*listens on port 8080/);
  assert.equal(loadConfig({ CRENEAU_PORT: '8080', CRENEAU_BASE_URL: 'http://127.0.0.1:8080/' }).warnings.length, 0);
  // A public name is served through a proxy: its port says nothing about the listening one.
  assert.equal(loadConfig({ CRENEAU_PORT: '8080', CRENEAU_BASE_URL: 'https://booking.example.com' }).warnings.length, 0);
});

test('OpenID Connect: all three variables or none, https unless on this machine, a _FILE secret, SSO-only needs it', () => {
  const oidc = { CRENEAU_OIDC_ISSUER: 'https://auth.example.com/application/o/creneau/', CRENEAU_OIDC_CLIENT_ID: 'creneau', CRENEAU_OIDC_CLIENT_SECRET: 'oidc-secret-value' };
  assert.equal(loadConfig({}).oidc, null);
  assert.equal(loadConfig({}).passwordLogin, true);
  fails({ CRENEAU_OIDC_ISSUER: oidc.CRENEAU_OIDC_ISSUER }, 'CRENEAU_OIDC_CLIENT_ID', /none of them/);
  fails({ CRENEAU_OIDC_ISSUER: oidc.CRENEAU_OIDC_ISSUER, CRENEAU_OIDC_CLIENT_ID: 'x' }, 'CRENEAU_OIDC_CLIENT_SECRET', /none of them/);
  fails({ ...oidc, CRENEAU_OIDC_ISSUER: 'auth.example.com' }, 'CRENEAU_OIDC_ISSUER', /issuer URL/);
  fails({ ...oidc, CRENEAU_OIDC_ISSUER: 'http://auth.example.com' }, 'CRENEAU_OIDC_ISSUER', /https:\/\//);
  fails({ ...oidc, CRENEAU_OIDC_ISSUER: 'https://auth.example.com/?x=1' }, 'CRENEAU_OIDC_ISSUER', /query/);
  fails({ CRENEAU_PASSWORD_LOGIN: 'off' }, 'CRENEAU_PASSWORD_LOGIN', /CRENEAU_OIDC_ISSUER/);
  fails({ ...oidc, CRENEAU_PASSWORD_LOGIN: 'sometimes' }, 'CRENEAU_PASSWORD_LOGIN', /on or off/);
  const local = loadConfig({ ...oidc, CRENEAU_OIDC_ISSUER: 'http://127.0.0.1:9000/oidc' });
  assert.equal(local.oidc?.issuer.toString(), 'http://127.0.0.1:9000/oidc');
  assert.equal(local.oidc?.label, 'Single sign-on');
  const dir = tempFolder('config-');
  writeFileSync(join(dir, 'oidc'), 'oidc-secret-from-file\n');
  const c = loadConfig({ ...oidc, CRENEAU_OIDC_CLIENT_SECRET: '', CRENEAU_OIDC_CLIENT_SECRET_FILE: join(dir, 'oidc'), CRENEAU_OIDC_LABEL: 'Authentik', CRENEAU_PASSWORD_LOGIN: 'off' });
  assert.equal(c.oidc?.clientSecret, 'oidc-secret-from-file');
  assert.equal(c.oidc?.label, 'Authentik');
  assert.equal(c.passwordLogin, false);
  assert.ok(!JSON.stringify(redactedConfig(c)).includes('oidc-secret-from-file'), 'secret redacted');
});

test('the reminder scan runs every 60 s by default, never more often than every 5 s', () => {
  assert.equal(loadConfig({}).reminderIntervalMs, 60_000);
  assert.equal(loadConfig({ CRENEAU_REMINDER_INTERVAL_SECONDS: '5' }).reminderIntervalMs, 5_000);
  for (const bad of ['4', '0', '-1', '1.5', 'soon', '86401']) fails({ CRENEAU_REMINDER_INTERVAL_SECONDS: bad }, 'CRENEAU_REMINDER_INTERVAL_SECONDS', /between 5 and 86400/);
});
