import { chmodSync, existsSync, mkdirSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { PasskeyTable, RememberTokenTable, SessionTable, StaffTable } from '../accounts/accounts.table.js';
import type { InvitationTable } from '../accounts/invitations.table.js';
import type { ServiceTable } from '../catalog/catalog.table.js';
import type { ScheduleTable } from '../catalog/schedule.table.js';
import type { CalendarConnectionTable } from '../calendars/connection.table.js';
import type { KeyCanaryTable } from '../crypto/key.table.js';
import type { SettingTable } from '../privacy/privacy.table.js';

/** Every table: the whole of what Creneau stores (DESIGN.md §1.2). No bookings, no clients. */
export interface Database {
  staff: StaffTable;
  services: ServiceTable;
  schedules: ScheduleTable;
  calendar_connections: CalendarConnectionTable;
  sessions: SessionTable;
  remember_tokens: RememberTokenTable;
  invitations: InvitationTable;
  passkeys: PasskeyTable;
  settings: SettingTable;
  key_canary: KeyCanaryTable;
}

export type Db = Kysely<Database>;

export const DB_FILE = 'creneau.sqlite';

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/** Options for the native addon when it does not sit in node_modules (single binary). */
let nativeBinding: string | undefined;
/** Set by the single binary before any database is opened (undefined: node_modules' own). */
export function setNativeBinding(path: string | undefined): void {
  nativeBinding = path;
}

/**
 * better-sqlite3 loads its native addon on the first open: an addon built for another Node
 * (after a Node upgrade without `npm rebuild`) fails there, which says nothing about the
 * database file, so the message must not send the admin to their backups.
 */
function addonFailure(err: unknown): DatabaseError | null {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.code !== 'ERR_DLOPEN_FAILED' && !/NODE_MODULE_VERSION|bindings file/.test(message)) return null;
  return new DatabaseError(
    `the SQLite addon (better-sqlite3) cannot be loaded by Node ${process.version} (${message.split('\n')[0] ?? ''}); run \`npm rebuild better-sqlite3\` with this Node, or \`npm ci\`. The database was not touched`,
  );
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Opens (creating when absent) the SQLite database, with our pragmas, after checking it is sound. */
export function openSqlite(path: string): SQLite.Database {
  if (existsSync(path)) {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    closeSync(fd);
    if (n > 0 && head.toString('latin1') !== SQLITE_MAGIC) {
      throw new DatabaseError(`${path} is not a SQLite database; refusing to start (restore it from a backup or move it away)`);
    }
    checkIntegrity(path);
  }
  try {
    const sqlite = new SQLite(path, nativeBinding ? { nativeBinding } : {});
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('secure_delete = ON');
    sqlite.pragma('synchronous = NORMAL');
    // Owner-only, whatever the umask: SQLite gives -wal and -shm the database file's mode.
    chmodSync(path, 0o600);
    return sqlite;
  } catch (err) {
    throw addonFailure(err) ?? new DatabaseError(`${path} cannot be opened (${(err as Error).message}); refusing to start`);
  }
}

/** quick_check on a read-only handle, so a damaged file is refused before anything writes to it. */
function checkIntegrity(path: string): void {
  let check: unknown;
  let ro: SQLite.Database | undefined;
  try {
    ro = new SQLite(path, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
    check = ro.pragma('quick_check', { simple: true });
  } catch (err) {
    throw addonFailure(err) ?? new DatabaseError(`${path} is damaged (${(err as Error).message}); refusing to start — restore it from a backup`);
  } finally {
    ro?.close();
  }
  if (check !== 'ok') {
    throw new DatabaseError(`${path} failed its integrity check (${String(check).split('\n')[0]}); refusing to start — restore it from a backup`);
  }
}

/**
 * Kysely prepares every query anew; preparing costs more than running our small queries, so
 * statements are reused by SQL text (bounded). better-sqlite3 statements are reusable and our
 * queries run to completion synchronously, so a statement is never shared mid-iteration.
 */
function withStatementCache(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') return Reflect.get(target, prop, receiver) as unknown;
      return (source: string) => {
        let stmt = cache.get(source);
        if (!stmt) {
          stmt = prepare(source);
          if (cache.size >= 500) cache.clear();
          cache.set(source, stmt);
        }
        return stmt;
      };
    },
  });
}

/** Opens the database in the data directory and wraps it in Kysely. */
export function openDb(dataDir: string): { sqlite: SQLite.Database; db: Db } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sqlite = openSqlite(join(dataDir, DB_FILE));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { sqlite, db };
}
