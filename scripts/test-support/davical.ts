// A real DAViCal (Debian `davical`, PHP + PostgreSQL) for the opt-in interop matrix
// (`npm run interop`, DESIGN.md §6). Everything lives in a temp folder and nothing of the
// system is used or changed beyond the installed packages:
// - a private PostgreSQL cluster (`initdb`, then `postgres` listening only on a Unix socket in
//   the folder), run as the unprivileged `postgres` user when we are root;
// - DAViCal's schema loaded by its own script (/usr/share/davical/dba/create-database.sh, with
//   PGHOST pointing at that socket), then one user, alice, written into its `usr`/`principal`
//   tables as the admin pages would;
// - PHP's built-in server (`php -S`, several workers) on 127.0.0.1 on a free port, with a router
//   that maps URLs as Debian's /etc/apache2/sites-available/davical.conf does: DAViCal under
//   /davical/caldav.php/, and /.well-known/… and /principals/users/… rewritten to it.
// DAViCal reads its configuration from /etc/davical/ only; instead of writing there, the
// harness runs DAViCal's own caldav.php with a copy of always.php (the bootstrap) whose
// configuration paths point into the folder (the one line that differs), and ../inc linked to
// the installed library. stop() stops PHP and PostgreSQL and removes the folder.
//
// Quirks found while writing this (DAViCal 1.1.12):
// - It announces RFC 6638 `calendar-auto-schedule` but delivers only to its own users'
//   inboxes: for an attendee elsewhere it tries iSchedule (not e-mail), which without
//   `scheduling_dkim_domain` fails at once, and writes SCHEDULE-STATUS=3.7 on the attendee.
//   It has no iMIP (e-mail) sending at all.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { basicAuth, freePort, makeCalendarAt, putObject, stopGroup, waitUntil, type DavServer } from './dav-server.js';

const SHARE = '/usr/share/davical';
/** php8.2-cgi is named so that apt does not satisfy DAViCal's `php` with Apache's PHP module (and Apache). */
const PACKAGES = 'davical php8.2-cli php8.2-cgi php8.2-pgsql php8.2-xml postgresql-15';
const INSTALL = `apt-get update && apt-get install -y --no-install-recommends ${PACKAGES}`;
const PHP = '/usr/bin/php';
/** Only ever a Unix socket in the temp folder; the number only names the socket file. */
const PG_PORT = 5432;
const PG_SUPERUSER = 'postgres';

export interface DavicalServer extends DavServer {
  /** The account's e-mail, its calendar-user address (mailto:). */
  readonly address: string;
}

/** The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : null;
}

interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

/** Who runs PostgreSQL and PHP: ourselves, or the `postgres` user when we are root (initdb refuses root). */
function unprivileged(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:')) ?? passwd.split('\n').find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = (line ?? '').split(':');
  if (!uid || !gid) throw new Error('no unprivileged user (postgres or nobody) to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd: string; as: RunAs; input?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: opts.env, cwd: opts.cwd, ...opts.as, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Starts PostgreSQL and DAViCal in a temp folder and resolves once alice's principal answers. */
export async function startDavical(): Promise<DavicalServer> {
  const bin = postgresBin();
  for (const need of [bin ? join(bin, 'initdb') : '/usr/lib/postgresql/<major>/bin/initdb', PHP, join(SHARE, 'dba/create-database.sh'), join(SHARE, 'htdocs/caldav.php'), '/usr/bin/psql']) {
    if (!existsSync(need)) throw new Error(`${need} is missing; install it with: ${INSTALL}`);
  }
  const pgBin = bin as string;
  const as = unprivileged();
  const dir = mkdtempSync(join(tmpdir(), 'creneau-davical-'));
  const socketDir = join(dir, 'run');
  for (const sub of ['run', 'conf', 'htdocs']) mkdirSync(join(dir, sub));
  if (as.uid !== undefined && as.gid !== undefined) for (const p of [dir, socketDir]) chownSync(p, as.uid, as.gid);
  const env: NodeJS.ProcessEnv = {
    PATH: `${pgBin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir,
    LANG: 'C.UTF-8',
    TMPDIR: dir,
    PGHOST: socketDir,
    PGPORT: String(PG_PORT),
    PGUSER: PG_SUPERUSER,
    USER: as.uid === undefined ? userInfo().username : PG_SUPERUSER,
  };

  const username = 'alice';
  const password = randomBytes(9).toString('base64url');
  const address = `${username}@davical.test`;
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const stop = async (): Promise<void> => {
    // PHP first (it holds the database connections), then PostgreSQL.
    for (const child of [...children].reverse()) await stopGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const track = (name: string, child: ChildProcess): ChildProcess => {
    children.push(child);
    child.stderr?.on('data', (d: Buffer) => {
      output.push(`${name}: ${d.toString()}`);
      while (output.join('').length > 6000) output.shift();
    });
    return child;
  };

  try {
    await run(join(pgBin, 'initdb'), ['-D', join(dir, 'pg'), '-U', PG_SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { env, cwd: dir, as });
    const pg = track(
      'postgres',
      spawn(
        join(pgBin, 'postgres'),
        ['-D', join(dir, 'pg'), '-k', socketDir, '-p', String(PG_PORT), '-c', 'listen_addresses=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env, cwd: dir, ...as },
      ),
    );
    await waitUntil(
      'postgres',
      async () => {
        await run(join(pgBin, 'pg_isready'), ['-q'], { env, cwd: dir, as });
        return true;
      },
      pg,
      () => output.join(''),
    );
    // DAViCal's own installer: roles davical_dba and davical_app, the schema, the base data.
    await run('/bin/sh', [join(SHARE, 'dba/create-database.sh'), 'davical', randomBytes(9).toString('base64url')], { env, cwd: dir, as });
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
      { env, cwd: dir, as },
    );

    writeFileSync(
      join(dir, 'conf/config.php'),
      [
        '<?php',
        `$c->pg_connect[] = ${sqlString(`host=${socketDir} port=${PG_PORT} dbname=davical user=davical_app`)};`,
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
    const php = track(
      'php',
      spawn(
        PHP,
        ['-d', 'display_errors=0', '-d', 'log_errors=1', '-d', `error_log=${join(dir, 'php-errors.log')}`, '-d', 'memory_limit=256M', '-S', `127.0.0.1:${port}`, join(dir, 'router.php')],
        // The built-in server answers one request at a time per worker: the race tests need several.
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...env, PHP_CLI_SERVER_WORKERS: '8' }, cwd: join(dir, 'htdocs'), ...as },
      ),
    );
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
      php,
      () => output.join('') + (existsSync(join(dir, 'php-errors.log')) ? readFileSync(join(dir, 'php-errors.log'), 'utf8').slice(-2000) : ''),
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
