// A real Cyrus IMAP CalDAV server (Debian `cyrus-imapd`, `cyrus-caldav`, `sasl2-bin`) for tests
// (DESIGN.md §6): the engine Fastmail runs, which schedules invitations itself (RFC 6638) and
// e-mails them (iMIP) to the SMTP server the harness names (the test's SMTP sink).
//
// Everything lives in a temp folder: imapd.conf, cyrus.conf, the mailbox databases, the spool,
// the SASL password database and the sockets. `master` runs as root and drops to the `cyrus`
// user, so the folder is handed to that user. HTTP listens on 127.0.0.1 on a free port; IMAP
// only on a Unix socket in the folder (used once, to log the user in so Cyrus creates the
// account, and with it the Default calendar, Inbox and Outbox). stop() removes it all.
//
// Quirks found while writing this (Cyrus 3.6):
// - master does not pass its -C to the services: every command line carries `-C imapd.conf`,
//   or the services read /etc/imapd.conf.
// - SASL passwords are checked as `user@<servername>`: saslpasswd2 gets `-u <servername>`.
// - The account does not exist until the user logs in once (autocreate_quota, on IMAP login);
//   before that, CalDAV answers 500.
// - The calendar-user-address-set is `mailto:<user>@<domain>` for each domain of
//   `calendar_user_address_set`; the server schedules only for an organizer with one of them.
// - iMIP goes out through `smtp_backend: host` to `smtp_host` (with `/noauth`); without it Cyrus
//   would run /usr/lib/sendmail.
import { spawn, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { basicAuth, freePort, makeCalendarAt, putObject, stopGroup, waitUntil, type DavServer } from './dav-server.js';

const BIN = '/usr/lib/cyrus/bin';
const MASTER = `${BIN}/master`;
const SASLPASSWD = '/usr/sbin/saslpasswd2';
const PACKAGES = 'cyrus-imapd cyrus-caldav cyrus-clients sasl2-bin';
const INSTALL = `apt-get update && apt-get install -y --no-install-recommends ${PACKAGES}`;
const SERVERNAME = 'localhost';

export interface CyrusServer extends DavServer {
  /** The account's own calendar-user address (its calendar-user-address-set), e.g. alice@cyrus.test. */
  readonly address: string;
  /** The domain the server is responsible for scheduling (`calendar_user_address_set`). */
  readonly domain: string;
}

export interface CyrusOptions {
  /** Where Cyrus sends its own iMIP messages (the test's SMTP sink); none = it cannot send mail. */
  readonly smtp?: { readonly host: string; readonly port: number };
  readonly domain?: string;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

/** Logs in once over IMAP (Unix socket), which makes Cyrus create the account. */
async function imapLogin(socketPath: string, username: string, password: string): Promise<void> {
  const quote = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  await new Promise<void>((resolve, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    let step = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`cyrus IMAP login timed out: ${buf}`));
    }, 10_000);
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (step === 0 && /^\* OK/m.test(buf)) {
        step = 1;
        sock.write(`a LOGIN ${quote(username)} ${quote(password)}\r\n`);
      } else if (step === 1 && /^a (OK|NO|BAD)/m.test(buf)) {
        if (!/^a OK/m.test(buf)) {
          clearTimeout(timer);
          sock.destroy();
          reject(new Error(`cyrus IMAP login refused: ${buf}`));
          return;
        }
        step = 2;
        sock.write('b LOGOUT\r\n');
      } else if (step === 2 && /^b OK/m.test(buf)) {
        clearTimeout(timer);
        sock.end();
        resolve();
      }
    });
  });
}

/** Starts Cyrus (master + httpd, caldav) and resolves once the account's calendars exist. */
export async function startCyrus(opts: CyrusOptions = {}): Promise<CyrusServer> {
  for (const bin of [MASTER, `${BIN}/imapd`, `${BIN}/httpd`, SASLPASSWD]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing; install it with: ${INSTALL}`);
  }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('the Cyrus harness needs root: Cyrus master starts as root and drops to the `cyrus` user');
  }
  const uid = Number(execFileSync('id', ['-u', 'cyrus']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'cyrus']).toString().trim());
  const domain = opts.domain ?? 'cyrus.test';
  const dir = mkdtempSync(join(tmpdir(), 'creneau-cyrus-'));
  const username = 'alice';
  const password = randomBytes(9).toString('base64url');
  for (const sub of ['conf', 'spool', 'run/proc', 'run/lock', 'run/socket']) mkdirSync(join(dir, sub), { recursive: true });
  const port = await freePort();
  const imapd = join(dir, 'imapd.conf');
  const imapSocket = join(dir, 'run/socket/imap');
  writeFileSync(
    imapd,
    [
      `configdirectory: ${join(dir, 'conf')}`,
      'defaultpartition: default',
      `partition-default: ${join(dir, 'spool')}`,
      `proc_path: ${join(dir, 'run/proc')}`,
      `mboxname_lockpath: ${join(dir, 'run/lock')}`,
      `lmtpsocket: ${join(dir, 'run/socket/lmtp')}`,
      `idlesocket: ${join(dir, 'run/socket/idle')}`,
      `notifysocket: ${join(dir, 'run/socket/notify')}`,
      `servername: ${SERVERNAME}`,
      'httpmodules: caldav',
      'httpallowcompress: no',
      'allowplaintext: yes',
      'sasl_pwcheck_method: auxprop',
      'sasl_auxprop_plugin: sasldb',
      `sasl_sasldb_path: ${join(dir, 'sasldb2')}`,
      'sasl_mech_list: PLAIN',
      // The account (and its Default calendar, Inbox and Outbox) is created at first login.
      'autocreate_quota: 0',
      'caldav_allowscheduling: on',
      `calendar_user_address_set: ${domain}`,
      // Bookings in the past are still scheduled (tests may write them).
      'caldav_historical_age: -1',
      ...(opts.smtp ? ['smtp_backend: host', `smtp_host: ${opts.smtp.host}:${opts.smtp.port}/noauth`] : ['smtp_backend: host', 'smtp_host: 127.0.0.1:9/noauth']),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'cyrus.conf'),
    [
      'START {',
      `  recover cmd="ctl_cyrusdb -C ${imapd} -r"`,
      '}',
      'SERVICES {',
      `  imap cmd="imapd -C ${imapd}" listen="${imapSocket}" prefork=0 maxchild=4`,
      `  http cmd="httpd -C ${imapd}" listen="127.0.0.1:${port}" prefork=1 maxchild=30`,
      '}',
      'EVENTS {',
      '}',
      '',
    ].join('\n'),
  );
  execFileSync(SASLPASSWD, ['-f', join(dir, 'sasldb2'), '-u', SERVERNAME, '-p', '-c', username], { input: `${password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  chownTree(dir, uid, gid);

  const child = spawn(MASTER, ['-C', imapd, '-M', join(dir, 'cyrus.conf'), '-p', join(dir, 'run/master.pid'), '-D'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    cwd: dir,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}/`;
  const authHeader = basicAuth(username, password);
  const stop = async (): Promise<void> => {
    await stopGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const home = new URL(`/dav/calendars/user/${username}/`, url).href;
  try {
    await waitUntil('cyrus master', async () => existsSync(imapSocket), child, () => stderr);
    await imapLogin(imapSocket, username, password);
    await waitUntil(
      'cyrus httpd',
      async () => {
        const res = await fetch(home, { method: 'PROPFIND', headers: { authorization: authHeader, depth: '0', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>' });
        await res.arrayBuffer();
        return res.status === 207;
      },
      child,
      () => stderr,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    username,
    password,
    address: `${username}@${domain}`,
    domain,
    makeCalendar: (name, displayName = name, components = ['VEVENT']) => makeCalendarAt(authHeader, new URL(encodeURIComponent(name) + '/', home).href, displayName, components),
    put: (calendarUrl, fileName, ics) => putObject(authHeader, calendarUrl, fileName, ics),
    stop,
  };
}
