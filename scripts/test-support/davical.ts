// A real DAViCal (Debian `davical`, PHP + PostgreSQL) for the opt-in interop matrix
// (`npm run interop`, DESIGN.md §6). Everything lives in a temp folder and nothing of the
// system is used or changed beyond the installed packages:
// - a private PostgreSQL cluster (./postgres.ts), listening only on a Unix socket in the folder;
// - DAViCal's schema loaded by its own script (/usr/share/davical/dba/create-database.sh, with
//   PGHOST pointing at that socket), then one user, alice, written into its `usr`/`principal`
//   tables as the admin pages would;
// - PHP's built-in server (`php -S`, several workers) on 127.0.0.1 on a free port, with a router
//   that maps URLs as Debian's /etc/apache2/sites-available/davical.conf does: DAViCal under
//   /davical/caldav.php/, and /.well-known/… and /principals/users/… rewritten to it.
// PostgreSQL and PHP run as the `postgres` user when we are root. DAViCal reads its
// configuration from /etc/davical/ only; instead of writing there, the harness runs DAViCal's
// own caldav.php with a copy of always.php (the bootstrap) whose configuration paths point into
// the folder (the only change), and ../inc linked to the installed library. stop() stops PHP and
// PostgreSQL and removes the folder.
//
// Quirks found while writing this (DAViCal 1.1.12):
// - It announces RFC 6638 `calendar-auto-schedule` but delivers only to its own users'
//   inboxes: for an attendee elsewhere it tries iSchedule (not e-mail), which without
//   `scheduling_dkim_domain` fails at once, and writes SCHEDULE-STATUS=3.7 on the attendee.
//   It has no iMIP (e-mail) sending at all.
// - After it scheduled (organizer = the account's e-mail), a PUT answers without an ETag.
// - The root answers 404 (Debian's site puts DAViCal under /davical/); /.well-known/caldav
//   redirects (301) to /davical/caldav.php/.
// - It stores events of zero length (no DTEND/DURATION, or DURATION:PT0S).
// - Of simultaneous PUTs of one new object with If-None-Match: *, one gets 201, those arriving
//   together with it 500 ("DAViCal Fatal Error"), later ones 412.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { basicAuth, freePort, makeCalendarAt, putObject, stopGroup, waitUntil, type DavServer } from './dav-server.js';
import { run, sqlString, startPostgres, type Postgres } from './postgres.js';

const SHARE = '/usr/share/davical';
/** php8.2-cgi is named so that apt does not satisfy DAViCal's `php` with Apache's PHP module (and Apache). */
const PACKAGES = 'davical php8.2-cli php8.2-cgi php8.2-pgsql php8.2-xml postgresql-15';
const INSTALL = `apt-get update && apt-get install -y --no-install-recommends ${PACKAGES}`;
const PHP = '/usr/bin/php';

export interface DavicalServer extends DavServer {
  /** The account's e-mail, its calendar-user address (mailto:). */
  readonly address: string;
}

/** Starts PostgreSQL and DAViCal in a temp folder and resolves once alice's principal answers. */
export async function startDavical(): Promise<DavicalServer> {
  for (const need of [PHP, join(SHARE, 'dba/create-database.sh'), join(SHARE, 'htdocs/caldav.php'), '/usr/bin/psql']) {
    if (!existsSync(need)) throw new Error(`${need} is missing; install it with: ${INSTALL}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'creneau-davical-'));
  for (const sub of ['conf', 'htdocs']) mkdirSync(join(dir, sub));
  const username = 'alice';
  const password = randomBytes(9).toString('base64url');
  const address = `${username}@davical.test`;
  let pg: Postgres | null = null;
  let php: ReturnType<typeof spawn> | null = null;
  let phpOut = '';
  const stop = async (): Promise<void> => {
    // PHP first (it holds the database connections), then PostgreSQL.
    if (php) await stopGroup(php);
    if (pg) await stopGroup(pg.child);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    pg = await startPostgres(dir, { install: INSTALL });
    const { env, as } = pg;
    const pgHome = pg.home;
    const socketDir = pg.socketDir;
    // DAViCal's own installer: roles davical_dba and davical_app, the schema, the base data.
    await run('/bin/sh', [join(SHARE, 'dba/create-database.sh'), 'davical', randomBytes(9).toString('base64url')], { env, cwd: pgHome, as });
    // The admin pages write these two rows for a new user; '**' marks a plain-text password.
    await run(
      '/usr/bin/psql',
      [
        '-qAtX',
        '-v',
        'ON_ERROR_STOP=1',
        '-d',
        'davical',
        '-c',
        `INSERT INTO usr (active, email_ok, updated, username, password, fullname, email) VALUES (true, current_date, current_date, ${sqlString(username)}, ${sqlString(`**${password}`)}, 'Alice Martin', ${sqlString(address)});`,
        '-c',
        `INSERT INTO principal (type_id, user_no, displayname) SELECT 1, user_no, fullname FROM usr WHERE username = ${sqlString(username)};`,
      ],
      { env, cwd: pgHome, as },
    );

    writeFileSync(
      join(dir, 'conf/config.php'),
      [
        '<?php',
        `$c->pg_connect[] = ${sqlString(`host=${socketDir} port=${env.PGPORT ?? ''} dbname=davical user=davical_app`)};`,
        "$c->domain_name = '127.0.0.1';",
        "$c->admin_email = 'admin@davical.test';",
        "$c->system_name = 'DAViCal';",
        '',
      ].join('\n'),
    );
    // DAViCal's bootstrap, reading its configuration from the folder instead of /etc/davical/.
    const always = readFileSync(join(SHARE, 'htdocs/always.php'), 'utf8');
    const patched = always.replaceAll("'/etc/davical/", `'${dir}/conf/`).replaceAll("'/usr/local/etc/davical/", `'${dir}/conf/`);
    if (patched === always) throw new Error(`${SHARE}/htdocs/always.php no longer reads /etc/davical/: the harness needs updating`);
    writeFileSync(join(dir, 'htdocs/always.php'), patched);
    // always.php adds ../inc (relative to the working folder) to PHP's include path.
    symlinkSync(join(SHARE, 'inc'), join(dir, 'inc'));
    writeFileSync(
      join(dir, 'router.php'),
      [
        '<?php',
        '// The rewrites of Debian\'s davical.conf: DAViCal under /davical/caldav.php/.',
        "$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);",
        "if (preg_match('{^/\\.well-known/(.*)$}i', $path, $m)) $info = '/.well-known/' . $m[1];",
        "elseif (preg_match('{^/(?:principals/users|principals/resources|calendars/__uids__|addressbooks/__uids__)(/.*)$}i', $path, $m)) $info = $m[1];",
        "elseif (preg_match('{^/davical/caldav\\.php(/.*)?$}', $path, $m)) $info = $m[1] ?? '';",
        "else { http_response_code(404); header('Content-Type: text/plain'); echo \"Not Found\\n\"; return true; }",
        "$_SERVER['SCRIPT_NAME'] = '/davical/caldav.php';",
        "$_SERVER['PHP_SELF'] = '/davical/caldav.php' . $info;",
        `$_SERVER['SCRIPT_FILENAME'] = ${sqlString(join(SHARE, 'htdocs/caldav.php'))};`,
        "if ($info === '') unset($_SERVER['PATH_INFO']); else $_SERVER['PATH_INFO'] = rawurldecode($info);",
        `chdir(${sqlString(join(dir, 'htdocs'))});`,
        `require ${sqlString(join(SHARE, 'htdocs/caldav.php'))};`,
        '',
      ].join('\n'),
    );

    const port = await freePort();
    // PHP's warnings go to its stderr (kept for errors), never into a response.
    const server = spawn(PHP, ['-d', 'display_errors=0', '-d', 'log_errors=1', '-d', 'memory_limit=256M', '-S', `127.0.0.1:${port}`, join(dir, 'router.php')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      // The built-in server answers one request at a time per worker: the race tests need several.
      env: { ...env, PHP_CLI_SERVER_WORKERS: '8' },
      cwd: join(dir, 'htdocs'),
      ...as,
    });
    php = server;
    server.stderr?.on('data', (d: Buffer) => {
      phpOut = (phpOut + d.toString()).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}/`;
    const authHeader = basicAuth(username, password);
    const home = new URL(`/davical/caldav.php/${username}/`, url).href;
    await waitUntil(
      'davical',
      async () => {
        const res = await fetch(home, { method: 'PROPFIND', headers: { authorization: authHeader, depth: '0', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>' });
        await res.arrayBuffer();
        return res.status === 207;
      },
      server,
      () => phpOut,
    );

    return {
      url,
      username,
      password,
      address,
      makeCalendar: (name, displayName = name, components = ['VEVENT']) => makeCalendarAt(authHeader, new URL(`${encodeURIComponent(name)}/`, home).href, displayName, components),
      put: (calendarUrl, fileName, ics) => putObject(authHeader, calendarUrl, fileName, ics),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
