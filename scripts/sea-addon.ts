import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the single binary puts its native SQLite addon. A native addon can only be loaded from
 * a file, so the embedded copy is written once to a folder named after its content hash and
 * reused by every later start; folders left by other versions are removed. Kept apart from
 * sea-entry.ts so it can be tested without building the binary.
 */

export const ADDON_FILE = 'better_sqlite3.node';
/** SEA asset keys shared by the build script and the binary's entry. */
export const MANIFEST_ASSET = 'creneau/manifest.json';
export const ADDON_ASSET = 'creneau/better_sqlite3.node';

/** The short content hash that names an addon folder. */
export function addonHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

/** The facts about the process that decide where the addon may go (passed in, not read here). */
export interface CacheContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly tmpdir: string;
  readonly uid: number;
}

/**
 * Candidate cache folders, best first: $XDG_CACHE_HOME/creneau, ~/.cache/creneau, then a
 * per-user folder in the temporary directory. A container points XDG_CACHE_HOME at a writable
 * volume (its root file system is read-only and its /tmp may be mounted noexec).
 */
export function cacheCandidates(ctx: CacheContext): string[] {
  const out: string[] = [];
  const xdg = ctx.env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) out.push(join(xdg, 'creneau'));
  if (ctx.home && ctx.home !== '/') out.push(join(ctx.home, '.cache', 'creneau'));
  out.push(join(ctx.tmpdir, `creneau-${ctx.uid}`));
  return [...new Set(out)];
}

/** Refuses a folder another user could have prepared: it must be ours, a real folder, 0700. */
function ownPrivateDir(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (uid >= 0 && st.uid !== uid) throw new Error(`${dir} belongs to another user`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Whether the file holds the content named by `hash`, read in small pieces (no 2 MB buffer kept for the GC). */
function sameContent(path: string, hash: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
    const h = createHash('sha256');
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) h.update(chunk.subarray(0, n));
    return h.digest('hex').slice(0, 12) === hash;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Makes sure `<base>/addon-<hash>/better_sqlite3.node` holds exactly `bytes` (reusing it when it
 * does, writing it atomically when not), removes other versions' folders and returns the path.
 * Throws when the folder cannot be used; the caller tries the next candidate. `bytes` may be a
 * function with the hash computed at build time: the embedded copy is then not even read when
 * the extracted file is already right (the usual start).
 */
export function extractAddon(base: string, bytes: Uint8Array | { readonly hash: string; readonly read: () => Uint8Array }, uid: number, staleAfterMs = 60_000): string {
  const hash = bytes instanceof Uint8Array ? addonHash(bytes) : bytes.hash;
  ownPrivateDir(base, uid);
  const dir = join(base, `addon-${hash}`);
  ownPrivateDir(dir, uid);
  const file = join(dir, ADDON_FILE);
  if (!sameContent(file, hash)) {
    const tmp = join(dir, `.${ADDON_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
    const content = bytes instanceof Uint8Array ? bytes : bytes.read();
    if (addonHash(content) !== hash) throw new Error('the embedded SQLite addon does not match its recorded hash');
    writeFileSync(tmp, content, { mode: 0o500, flag: 'wx' });
    renameSync(tmp, file);
  }
  removeStale(base, `addon-${hash}`, staleAfterMs);
  return file;
}

/** Removes addon folders of other versions, sparing very recent ones (another version starting right now). */
function removeStale(base: string, keep: string, staleAfterMs: number): void {
  const now = Date.now();
  for (const name of readdirSync(base)) {
    if (!name.startsWith('addon-') || name === keep) continue;
    const path = join(base, name);
    try {
      if (now - lstatSync(path).mtimeMs < staleAfterMs) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process may be removing it too; a leftover folder is harmless.
    }
  }
}
