// A real Radicale for CalDAV tests (DESIGN.md §6): temp folder, htpasswd (apr1, `htpasswd -m`),
// 127.0.0.1 on a free port. Nothing outside the temp folder is written; stop() removes it.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort, type DavServer } from './dav-server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const RADICALE = '/usr/bin/radicale';
const HTPASSWD = '/usr/bin/htpasswd';
const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends radicale apache2-utils';

/** Radicale is one of the CalDAV harnesses (scripts/test-support/dav-server.ts). */
export type RadicaleServer = DavServer;


export interface RadicaleOptions {
  /**
   * A Radicale rights file (`type = from_file`, re-read at each request, so a test may rewrite
   * it while the server runs); none = each user reads and writes only their own collections.
   */
  readonly rightsFile?: string;
  /** The account's user name (default `alice`); an e-mail address stands for the account's own address. */
  readonly username?: string;
}

/** Starts Radicale and resolves once it answers; `folder` is its storage (benchmarks seed it directly). */
export async function startRadicale(opts: RadicaleOptions = {}): Promise<RadicaleServer & { readonly folder: string }> {
  for (const bin of [RADICALE, HTPASSWD]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing; install it with: ${INSTALL}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'creneau-radicale-'));
  const username = opts.username ?? 'alice';
  const password = randomBytes(9).toString('base64url');
  const users = join(dir, 'users');
  execFileSync(HTPASSWD, ['-c', '-m', '-b', users, username, password], { stdio: 'ignore' });
  const port = await freePort();
  const config = join(dir, 'config');
  writeFileSync(
    config,
    [
      '[server]', `hosts = 127.0.0.1:${port}`,
      '[auth]', 'type = htpasswd', `htpasswd_filename = ${users}`, 'htpasswd_encryption = md5', 'delay = 0',
      '[rights]', ...(opts.rightsFile ? ['type = from_file', `file = ${opts.rightsFile}`] : ['type = owner_only']),
      '[storage]', `filesystem_folder = ${join(dir, 'collections')}`,
      '[logging]', 'level = warning', 'mask_passwords = True',
      '[web]', 'type = none',
      '',
    ].join('\n'),
  );
  const child = spawn(RADICALE, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOME: dir } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}/`;
  const authHeader = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`radicale exited early: ${stderr}`);
    }
    try {
      const res = await fetch(url, { method: 'OPTIONS' });
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`radicale did not answer on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    username,
    password,
    folder: join(dir, 'collections', 'collection-root'),
    async makeCalendar(name, displayName = name, components = ['VEVENT']) {
      const calUrl = new URL(`/${username}/${encodeURIComponent(name)}/`, url).href;
      const comps = components.map((c) => `<C:comp name="${c}"/>`).join('');
      const body = `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${displayName}</D:displayname><C:supported-calendar-component-set>${comps}</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`;
      const res = await fetch(calUrl, { method: 'MKCALENDAR', headers: { authorization: authHeader, 'content-type': 'application/xml' }, body });
      if (res.status !== 201) throw new Error(`MKCALENDAR ${calUrl}: ${res.status} ${await res.text()}`);
      return calUrl;
    },
    async put(calendarUrl, fileName, ics) {
      const res = await fetch(new URL(fileName, calendarUrl), { method: 'PUT', headers: { authorization: authHeader, 'content-type': 'text/calendar; charset=utf-8' }, body: ics });
      await res.arrayBuffer();
      return res.status;
    },
    stop,
  };
}
