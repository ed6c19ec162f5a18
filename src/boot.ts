import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import { loadKeyring } from './crypto/key.service.js';
import { openDb } from './db/database.js';
import { migrate } from './db/migrate.js';
import type { Deps } from './deps.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/log.js';
import { createI18n } from './web/i18n.js';
import { CalendarDirectory } from './calendars/connection.service.js';
import type { Mailer } from './mail/mailer.js';
import { BrandSource } from './privacy/brand.js';

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
