// The real components the suite starts (DESIGN.md §6) come from Debian packages. When one is
// missing and we run as root, install it; otherwise stop with the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  { bin: '/usr/bin/radicale', pkg: 'radicale' },
  { bin: '/usr/bin/htpasswd', pkg: 'apache2-utils' },
  { bin: '/usr/bin/chromium', pkg: 'chromium' },
  // The CalDAV interop matrix (src/calendars/caldav/interop.test.ts) runs against these servers too.
  { bin: '/usr/bin/xandikos', pkg: 'xandikos' },
  { bin: '/usr/lib/cyrus/bin/imapd', pkg: 'cyrus-imapd' },
  { bin: '/usr/lib/cyrus/bin/httpd', pkg: 'cyrus-caldav' },
  // imtest/httptest, to look at a Cyrus the harness started when a test fails.
  { bin: '/usr/lib/cyrus/bin/imtest', pkg: 'cyrus-clients' },
  { bin: '/usr/sbin/saslpasswd2', pkg: 'sasl2-bin' },
  // The single-binary test compiles the SQLite addon for the Node 24 base (scripts/build-binary.ts).
  { bin: '/usr/bin/g++', pkg: 'g++' },
  { bin: '/usr/bin/make', pkg: 'make' },
  { bin: '/usr/bin/python3', pkg: 'python3' },
];

/**
 * The heavier servers of the opt-in interop matrix (`npm run interop`), never installed by
 * `npm test`: DAViCal with PHP and PostgreSQL (scripts/test-support/davical.ts), SOGo with
 * memcached (sogo.ts). php8.2-cgi is named so that apt satisfies DAViCal's `php` with it rather
 * than with Apache's PHP module (and Apache). On a machine with systemd, Debian's packages start
 * their own services (PostgreSQL's `main` cluster, memcached, SOGo); the tests never use them
 * (they run private ones in a temp folder).
 */
const INTEROP = [
  { bin: '/usr/share/davical/htdocs/caldav.php', pkg: 'davical' },
  { bin: '/usr/bin/php8.2', pkg: 'php8.2-cli' },
  { bin: '/usr/bin/php-cgi8.2', pkg: 'php8.2-cgi' },
  { bin: '/etc/php/8.2/mods-available/pgsql.ini', pkg: 'php8.2-pgsql' },
  { bin: '/etc/php/8.2/mods-available/dom.ini', pkg: 'php8.2-xml' },
  { bin: '/usr/lib/postgresql/15/bin/initdb', pkg: 'postgresql-15' },
  // SOGo (scripts/test-support/sogo.ts), with its memcached; its database is PostgreSQL too.
  { bin: '/usr/sbin/sogod', pkg: 'sogo' },
  { bin: '/usr/bin/memcached', pkg: 'memcached' },
];

/** Installs what the suite needs; `{ interop: true }` adds the servers of `npm run interop`. */
export function ensureSystemPackages({ interop = false } = {}) {
  const missing = [...NEEDED, ...(interop ? INTEROP : [])].filter((n) => !existsSync(n.bin)).map((n) => n.pkg);
  if (missing.length === 0) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`The test suite needs: ${missing.join(', ')}. Install them with:\n  sudo ${cmd}`);
    process.exit(1);
  }
  console.error(`installing test components: ${missing.join(', ')}`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const res = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (res.status !== 0) {
    console.error(`could not install ${missing.join(', ')}; run: ${cmd}`);
    process.exit(1);
  }
}
