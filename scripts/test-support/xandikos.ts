// A real Xandikos (Debian package `xandikos`) for CalDAV tests (DESIGN.md §6). Xandikos has no
// authentication of its own: it is deployed behind a reverse proxy that checks passwords, so the
// harness puts one in front of it (Basic auth, as Apache or nginx would). Xandikos listens on a
// Unix socket in the temp folder; the proxy on 127.0.0.1 on a free port. stop() removes it all.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { basicAuth, forward, makeCalendarAt, putObject, stopGroup, waitUntil, type DavServer } from './dav-server.js';

const XANDIKOS = '/usr/bin/xandikos';
const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends xandikos';

/** Starts Xandikos behind a password-checking proxy and resolves once it answers. */
export async function startXandikos(): Promise<DavServer> {
  if (!existsSync(XANDIKOS)) throw new Error(`${XANDIKOS} is missing; install it with: ${INSTALL}`);
  const dir = mkdtempSync(join(tmpdir(), 'creneau-xandikos-'));
  const username = 'alice';
  const password = randomBytes(9).toString('base64url');
  const socket = join(dir, 'xandikos.sock');
  const child = spawn(XANDIKOS, ['-d', join(dir, 'data'), '--autocreate', '--current-user-principal', `/${username}/`, '-l', socket], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    env: { ...process.env, HOME: dir },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });

  const expected = Buffer.from(basicAuth(username, password));
  const proxy = http.createServer((req, res) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="xandikos"', 'content-type': 'text/plain' });
      res.end('Unauthorized');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    forward(req, res, { socketPath: socket, headers });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
  const authHeader = basicAuth(username, password);

  const stop = async (): Promise<void> => {
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await stopGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntil('xandikos', async () => (await fetch(new URL(`/${username}/`, url), { method: 'OPTIONS', headers: { authorization: authHeader } })).status < 500, child, () => stderr);
    // The calendar home the principal advertises: created here when --autocreate did not (405 = exists).
    const home = await fetch(new URL(`/${username}/calendars/`, url), { method: 'MKCOL', headers: { authorization: authHeader } });
    if (home.status !== 201 && home.status !== 405) throw new Error(`MKCOL calendar home: ${home.status}`);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    username,
    password,
    makeCalendar: (name, displayName = name, components = ['VEVENT']) => makeCalendarAt(authHeader, new URL(`/${username}/calendars/${encodeURIComponent(name)}/`, url).href, displayName, components),
    put: (calendarUrl, fileName, ics) => putObject(authHeader, calendarUrl, fileName, ics),
    stop,
  };
}
