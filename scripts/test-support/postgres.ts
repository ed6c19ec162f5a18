// A private PostgreSQL cluster for the heavier CalDAV servers of `npm run interop` (DAViCal,
// SOGo): `initdb` into a folder of the caller's temp folder, then `postgres` listening on a Unix
// socket in that folder and, when asked, on 127.0.0.1 on a free port. When we are root it runs
// as the unprivileged `postgres` user (initdb refuses root). Trust authentication: nothing but
// the tests can reach it. The system's own clusters are never used.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, stopGroup, waitUntil } from './dav-server.js';

export interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

export interface Postgres {
  readonly child: ChildProcess;
  /** PGHOST, PGPORT, PGUSER and PATH for psql and the servers' own scripts. */
  readonly env: NodeJS.ProcessEnv;
  readonly socketDir: string;
  /** The TCP port on 127.0.0.1 (0 when only the socket listens). */
  readonly port: number;
  readonly superuser: string;
  /** Who runs it (and should run its client scripts); empty = ourselves. */
  readonly as: RunAs;
  /** A folder that user owns, for scripts' HOME, TMPDIR and working folder. */
  readonly home: string;
  /** What the server printed last (for errors). */
  output(): string;
}

/** The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : null;
}

/** A system user's uid and gid, from /etc/passwd; null when there is none. */
export function systemUser(name: string): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = (line ?? '').split(':');
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : null;
}

/** Ourselves, or `name` (else `nobody`) when we are root. */
export function unprivileged(name: string): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const user = systemUser(name) ?? systemUser('nobody');
  if (!user) throw new Error(`no unprivileged user (${name} or nobody) to run as`);
  return user;
}

/** Runs a command to completion; its stdout, or an error with everything it printed. */
export function run(cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd: string; as: RunAs }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env, cwd: opts.cwd, ...opts.as, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Starts a cluster in `<dir>/pg` (socket in `<dir>/pg-run`), ready for connections. `dir` is
 * made traversable (0711) for the user it runs as. The caller stops `child` (its own process
 * group) and removes `dir`.
 */
export async function startPostgres(dir: string, opts: { tcp?: boolean; install: string }): Promise<Postgres> {
  const bin = postgresBin();
  if (!bin) throw new Error(`PostgreSQL is missing; install it with: ${opts.install}`);
  const as = unprivileged('postgres');
  const socketDir = join(dir, 'pg-run');
  const home = join(dir, 'pg-home');
  chmodSync(dir, 0o711);
  for (const sub of [join(dir, 'pg'), socketDir, home]) {
    mkdirSync(sub, { mode: 0o700 });
    if (as.uid !== undefined && as.gid !== undefined) chownSync(sub, as.uid, as.gid);
  }
  const superuser = 'postgres';
  const port = opts.tcp ? await freePort() : 0;
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    TMPDIR: home,
    PGHOST: socketDir,
    // Without TCP the number only names the socket file.
    PGPORT: String(port || 5432),
    PGUSER: superuser,
    USER: as.uid === undefined ? userInfo().username : superuser,
  };
  await run(join(bin, 'initdb'), ['-D', join(dir, 'pg'), '-U', superuser, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { env, cwd: home, as });
  let out = '';
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D', join(dir, 'pg'),
      '-k', socketDir,
      '-p', env.PGPORT as string,
      '-c', `listen_addresses=${opts.tcp ? '127.0.0.1' : ''}`,
      // A throw-away cluster: no durability needed.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env, cwd: home, ...as },
  );
  child.stderr?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  });
  try {
    await waitUntil(
      'postgres',
      async () => {
        await run(join(bin, 'pg_isready'), ['-q'], { env, cwd: home, as });
        return true;
      },
      child,
      () => out,
    );
  } catch (e) {
    await stopGroup(child);
    throw e;
  }
  return { child, env, socketDir, port, superuser, as, home, output: () => out };
}
