import type SQLite from 'better-sqlite3';
import type { i18n } from 'i18next';
import type { Config } from './config.js';
import type { Keyring } from './crypto/keyring.js';
import type { Db } from './db/database.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/log.js';
import type { CalendarDirectory } from './calendars/connection.service.js';
import type { Mailer } from './mail/mailer.js';
import type { BrandSource } from './privacy/brand.js';

/** The explicit dependency bag handed to createApp and the CLI commands. */
export interface Deps {
  readonly config: Config;
  readonly db: Db;
  readonly sqlite: SQLite.Database;
  readonly clock: Clock;
  readonly keyring: Keyring;
  readonly i18n: i18n;
  readonly log: Logger;
  /** Calendar connections and their live providers. */
  readonly calendars: CalendarDirectory;
  /** The business's name, accent colour and logo as the owner set them (pages and e-mails show them). */
  readonly brand: BrandSource;
  /** SMTP for iMIP invitations, or null when not configured. */
  readonly mailer: Mailer | null;
  /** Called before a staff account is deleted (the calendar area revokes its access here). */
  readonly beforeAccountDelete?: (staffId: number) => Promise<void>;
  /** The one-time first-run token (128 bits, in memory only): /setup needs it while no owner exists. */
  readonly setupToken: string;
}
