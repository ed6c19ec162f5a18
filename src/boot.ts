import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { loadKeyring } from './crypto/key.service.js';
import { KeyError } from './crypto/keyring.js';
import { SealError } from './crypto/seal.js';
import { DatabaseError, openDb } from './db/database.js';
import { migrate } from './db/migrate.js';
import type { Deps } from './deps.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/log.js';
import { createI18n } from './web/i18n.js';
import { CalendarDirectory } from './calendars/connection.service.js';
import type { Mailer } from './mail/mailer.js';
import { BrandSource } from './privacy/brand.js';
import { err, ok, type Result } from './lib/result.js';

/** Why the start failed in a way the operator can fix: the database or the key refuses. */
export interface BootFailure {
  readonly code: 'data-dir' | 'database' | 'key';
  readonly message: string;
}

/**
 * `boot`, with the refusals an operator can fix (damaged or foreign database, newer schema,
 * wrong or missing key) as a typed outcome; anything else still throws.
 */
export async function tryBoot(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Promise<Result<Deps, BootFailure>> {
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String(e.code) : 'not a writable directory';
    return err({ code: 'data-dir', message: `the data directory ${config.dataDir} cannot be created (${reason}); check CRENEAU_DATA_DIR` });
  }
  try {
    return ok(await boot(config, opts));
  } catch (e) {
    if (e instanceof DatabaseError) return err({ code: 'database', message: e.message });
    if (e instanceof KeyError || e instanceof SealError) return err({ code: 'key', message: e.message });
    throw e;
  }
}

/** Opens the database, applies migrations and proves the key: the start of every command. */
export async function boot(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Promise<Deps> {
  const { sqlite, db } = openDb(config.dataDir);
  try {
    await migrate(db);
    const keyring = await loadKeyring(db, config.dataDir, config.secretKey);
    const i18n = await createI18n(config.defaultLocale);
    const clock = opts.clock ?? systemClock;
    const log = opts.log ?? createLogger(config.log);
    const calendars = new CalendarDirectory({ config, db, keyring, clock, log });
    const brand = new BrandSource(sqlite);
    return {
      config, db, sqlite, keyring, i18n, clock, log, calendars, brand,
      mailer: lazyMailer(config, log, brand),
      beforeAccountDelete: (staffId: number) => calendars.disconnect(staffId),
      // Never stored: a restart prints a new one, so a leaked start-up line ages out.
      setupToken: randomBytes(16).toString('base64url'),
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

/**
 * The SMTP mailer, but nodemailer (~15 MiB resident, ~0.3 s to load) is only imported when the
 * first message goes out: most installations send none, and none at start.
 */
function lazyMailer(config: Config, log: Logger, brand: BrandSource): Mailer | null {
  if (!config.smtp) return null;
  let loaded: Mailer | null = null;
  let loading: Promise<Mailer | null> | null = null;
  // The business's name, when the owner set one, signs every message (From and the HTML's heading).
  const senderName = (): string | null => {
    const b = brand.current();
    return b.named ? b.name : null;
  };
  return {
    send: async (mail) => {
      loading ??= import('./mail/mailer.js').then((m) => (loaded = m.createMailer(config, { log, senderName })), () => null);
      const mailer = await loading;
      return mailer ? mailer.send(mail) : false;
    },
    pending: () => loaded?.pending() ?? 0,
  };
}
