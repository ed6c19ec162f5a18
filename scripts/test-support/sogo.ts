// A real SOGo (Debian `sogo`: sogod, with PostgreSQL and memcached) for the opt-in interop
// matrix (`npm run interop`, DESIGN.md §6). SOGo schedules by itself (RFC 6638) and e-mails its
// iMIP messages through SMTP, here to the test's SMTP sink. Everything lives in a temp folder:
// - a private PostgreSQL cluster (./postgres.ts) on 127.0.0.1 on a free port, with the `sogo`
//   database, its user table `sogo_users` (an SQL user source, plain-text passwords) and alice;
//   SOGo creates its own tables at the first request;
// - memcached on 127.0.0.1 on a free port (SOGo keeps sessions and caches there);
// - sogod on 127.0.0.1 on a free port, configured entirely by command-line defaults (they
//   override /etc/sogo/sogo.conf, which stays untouched), HOME in the folder;
// - in front, a small proxy doing what Debian's /usr/share/doc/sogo/apache.conf does:
//   /SOGo/… passed on with the x-webobjects-server-* headers, /.well-known/caldav redirected
//   (301) to /SOGo/dav, nothing else.
// sogod and memcached run as the `sogo` user and PostgreSQL as `postgres` when we are root.
// stop() stops them all and removes the folder.
//
// Quirks found while writing this (SOGo 5.8; the interop matrix checks each):
// - It e-mails the invitation, update and cancellation itself when the organizer is the
//   account's address (`SOGoMailDomain`), but writes no SCHEDULE-STATUS on the attendee; it
//   also ignores SCHEDULE-AGENT=CLIENT for such an organizer. For any other organizer it sends
//   nothing. Its messages keep the event's PRODID and carry `X-Sogo-Message-Type`.
// - It ignores If-None-Match: * (a PUT of an existing object overwrites it, 204), and some of
//   twenty simultaneous PUTs of one new object get a 500.
// - It pins floating times to the account's time zone (`SOGoTimeZone`) when storing, gives an
//   event with neither DTEND nor DURATION a DURATION of one hour, escapes the semicolons of an
//   EXRULE (which then does not parse), and refuses a VJOURNAL (404).
// - The proxy must not reuse connections to sogod (it closes them after each answer).
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { basicAuth, forward, freePort, makeCalendarAt, putObject, stopGroup, waitUntil, type DavServer } from './dav-server.js';
import { run, sqlString, startPostgres, unprivileged, type Postgres } from './postgres.js';

const SOGOD = '/usr/sbin/sogod';
const MEMCACHED = '/usr/bin/memcached';
const PACKAGES = 'sogo memcached postgresql-15';
const INSTALL = `apt-get update && apt-get install -y --no-install-recommends ${PACKAGES}`;

export interface SogoServer extends DavServer {
  /** The account's e-mail, its calendar-user address (mailto:). */
  readonly address: string;
  readonly domain: string;
}

export interface SogoOptions {
  /** Where SOGo sends its iMIP messages (the test's SMTP sink); none = a closed port. */
  readonly smtp?: { readonly host: string; readonly port: number };
}

/** A GNUstep property-list string. */
const plist = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** Starts PostgreSQL, memcached, sogod and the proxy; resolves once alice's principal answers. */
export async function startSogo(opts: SogoOptions = {}): Promise<SogoServer> {
  for (const need of [SOGOD, MEMCACHED, '/usr/bin/psql']) {
    if (!existsSync(need)) throw new Error(`${need} is missing; install it with: ${INSTALL}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'creneau-sogo-'));
  const as = unprivileged('sogo');
  const home = join(dir, 'sogo');
  mkdirSync(home, { mode: 0o700 });
  if (as.uid !== undefined && as.gid !== undefined) chownSync(home, as.uid, as.gid);
  const username = 'alice';
  const password = randomBytes(9).toString('base64url');
  const domain = 'sogo.test';
  const address = `${username}@${domain}`;

  let pg: Postgres | null = null;
  const children: ChildProcess[] = [];
  let out = '';
  const keep = (name: string, child: ChildProcess): ChildProcess => {
    children.push(child);
    const add = (d: Buffer): void => {
      out = (out + `${name}: ${d.toString()}`).slice(-6000);
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
    return child;
  };
  let proxy: http.Server | null = null;
  const stop = async (): Promise<void> => {
    if (proxy) {
      const p = proxy;
      p.closeAllConnections();
      await new Promise<void>((resolve) => p.close(() => resolve()));
    }
    for (const child of [...children].reverse()) await stopGroup(child);
    if (pg) await stopGroup(pg.child);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    pg = await startPostgres(dir, { tcp: true, install: INSTALL });
    const psql = (db: string, ...sql: string[]): Promise<string> =>
      run('/usr/bin/psql', ['-qAtX', '-v', 'ON_ERROR_STOP=1', '-d', db, ...sql.flatMap((s) => ['-c', s])], { env: (pg as Postgres).env, cwd: (pg as Postgres).home, as: (pg as Postgres).as });
    await psql('postgres', 'CREATE USER sogo', 'CREATE DATABASE sogo OWNER sogo');
    await psql(
      'sogo',
      'SET ROLE sogo',
      'CREATE TABLE sogo_users (c_uid varchar(255) PRIMARY KEY, c_name varchar(255), c_password varchar(255), c_cn varchar(255), mail varchar(255))',
      `INSERT INTO sogo_users VALUES (${sqlString(username)}, ${sqlString(username)}, ${sqlString(password)}, 'Alice Martin', ${sqlString(address)})`,
    );

    const memcachedPort = await freePort();
    keep('memcached', spawn(MEMCACHED, ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-m', '32'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: home, ...as }));

    const db = `postgresql://sogo@127.0.0.1:${pg.port}/sogo`;
    const sogoPort = await freePort();
    const smtp = opts.smtp ?? { host: '127.0.0.1', port: 9 };
    const defaults: Record<string, string> = {
      WONoDetach: 'YES',
      WOPort: `127.0.0.1:${sogoPort}`,
      WOLogFile: '-',
      WOPidFile: join(home, 'sogo.pid'),
      // The watchdog's children; the race tests send twenty requests at once.
      WOWorkersCount: '4',
      SOGoProfileURL: `${db}/sogo_user_profile`,
      OCSFolderInfoURL: `${db}/sogo_folder_info`,
      OCSSessionsFolderURL: `${db}/sogo_sessions_folder`,
      OCSEMailAlarmsFolderURL: `${db}/sogo_alarms_folder`,
      SOGoUserSources: `({type = sql; id = users; viewURL = ${plist(`${db}/sogo_users`)}; canAuthenticate = YES; isAddressBook = NO; userPasswordAlgorithm = plain;})`,
      SOGoMailDomain: domain,
      SOGoMemcachedHost: `127.0.0.1:${memcachedPort}`,
      SOGoMailingMechanism: 'smtp',
      SOGoSMTPServer: `smtp://${smtp.host}:${smtp.port}`,
      SOGoAppointmentSendEMailNotifications: 'YES',
      // The account's time zone: SOGo pins floating times to it when it stores an event.
      SOGoTimeZone: 'Europe/Paris',
      SOGoLanguage: 'English',
    };
    const sogod = keep(
      'sogod',
      spawn(
        SOGOD,
        Object.entries(defaults).flatMap(([k, v]) => [`-${k}`, v]),
        { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: home, env: { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' }, ...as },
      ),
    );

    // Debian's apache.conf for SOGo, in a few lines.
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (/^\/\.well-known\/caldav\/?$/i.test(path)) {
        res.writeHead(301, { location: '/SOGo/dav' });
        res.end();
        return;
      }
      if (!/^\/SOGo(\/|$)/.test(path)) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not Found\n');
        return;
      }
      const headers = { ...req.headers };
      delete headers['x-webobjects-remote-user'];
      const host = req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
      Object.assign(headers, {
        'x-webobjects-server-port': host.split(':')[1] ?? '80',
        'x-webobjects-server-name': host,
        'x-webobjects-server-url': `http://${host}`,
        'x-webobjects-server-protocol': 'HTTP/1.0',
      });
      // One connection per request, as apache.conf's proxy-nokeepalive: sogod closes them.
      headers.connection = 'close';
      forward(req, res, { host: '127.0.0.1', port: sogoPort, headers, agent: false });
    });
    proxy = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const authHeader = basicAuth(username, password);
    const principal = new URL(`/SOGo/dav/${username}/`, url).href;
    await waitUntil(
      'sogod',
      async () => {
        const res = await fetch(principal, { method: 'PROPFIND', headers: { authorization: authHeader, depth: '0', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>' });
        await res.arrayBuffer();
        return res.status === 207;
      },
      sogod,
      () => out,
      30_000,
    );

    return {
      url,
      username,
      password,
      address,
      domain,
      makeCalendar: (name, displayName = name, components = ['VEVENT']) => makeCalendarAt(authHeader, new URL(`Calendar/${encodeURIComponent(name)}/`, principal).href, displayName, components),
      put: (calendarUrl, fileName, ics) => putObject(authHeader, calendarUrl, fileName, ics),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
