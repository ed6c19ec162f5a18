import { COOKIE_BASE_NAMES, type CookieName } from '../web/cookies.js';
import { REMEMBER_MS } from '../accounts/session.js';
import { SIGN_IN_COOKIE_SECONDS } from '../accounts/sign-in-cookie.js';

/**
 * The one source of truth for what Creneau stores (DESIGN.md §1.2): every table and every
 * column of the live schema, with its class, purpose, legal basis and retention. The privacy
 * page and `creneau audit` print it; inventory.test.ts fails when the schema and this list
 * disagree. Texts are i18n keys in locales/<lng>/privacy.json.
 */

/** What kind of data a column holds. */
export type DataClass = 'personal' | 'credential-sealed' | 'configuration' | 'session' | 'technical';

export const DATA_CLASSES: readonly DataClass[] = ['personal', 'credential-sealed', 'configuration', 'session', 'technical'];

/** The legal basis (GDPR art. 6) a table's data rests on; `none` when it holds no personal data. */
export type LegalBasis = 'contract' | 'legitimate_interest' | 'none';

export interface TableEntry {
  readonly table: string;
  /** i18n keys in the privacy namespace. */
  readonly purposeKey: string;
  readonly basis: LegalBasis;
  readonly retentionKey: string;
  readonly columns: Readonly<Record<string, DataClass>>;
}

const t = (table: string, basis: LegalBasis, columns: Record<string, DataClass>): TableEntry =>
  Object.freeze({ table, purposeKey: `tables.${table}.purpose`, basis, retentionKey: `tables.${table}.retention`, columns: Object.freeze(columns) });

/** Every table of the database file, in the order the page lists them. No bookings, no clients. */
export const INVENTORY: readonly TableEntry[] = Object.freeze([
  t('staff', 'contract', {
    id: 'technical',
    username: 'personal',
    display_name: 'personal',
    email: 'personal',
    password_hash: 'credential-sealed',
    google_sub: 'personal',
    oidc_sub: 'personal',
    locale: 'personal',
    time_zone: 'personal',
    bio: 'personal',
    place: 'personal',
    picture: 'personal',
    picture_type: 'technical',
    is_owner: 'configuration',
    created_at: 'technical',
    updated_at: 'technical',
  }),
  t('services', 'contract', {
    id: 'technical',
    staff_id: 'technical',
    slug: 'configuration',
    title: 'configuration',
    description: 'configuration',
    location: 'configuration',
    rules: 'configuration',
    fields: 'configuration',
    active: 'configuration',
    position: 'configuration',
    questions: 'configuration',
    reminders: 'configuration',
    approval: 'configuration',
    confirm_email: 'configuration',
    cancel_cutoff_minutes: 'configuration',
    uses_schedule: 'configuration',
    created_at: 'technical',
    updated_at: 'technical',
  }),
  t('schedules', 'contract', {
    staff_id: 'technical',
    hours: 'configuration',
    overrides: 'configuration',
    updated_at: 'technical',
  }),
  t('calendar_connections', 'contract', {
    id: 'technical',
    staff_id: 'technical',
    provider: 'configuration',
    url: 'configuration',
    username: 'personal',
    secret_sealed: 'credential-sealed',
    booking_calendar: 'configuration',
    conflict_calendars: 'configuration',
    status: 'technical',
    server_schedules: 'technical',
    created_at: 'technical',
    updated_at: 'technical',
  }),
  t('passkeys', 'contract', {
    id: 'technical',
    staff_id: 'technical',
    credential_id: 'personal',
    public_key: 'personal',
    sign_count: 'technical',
    transports: 'technical',
    name: 'personal',
    created_at: 'technical',
    last_used_at: 'technical',
  }),
  t('sessions', 'legitimate_interest', {
    id_hash: 'session',
    staff_id: 'session',
    csrf_token: 'session',
    created_at: 'session',
    last_seen_at: 'session',
    expires_at: 'session',
  }),
  t('remember_tokens', 'legitimate_interest', {
    selector: 'session',
    validator_hash: 'session',
    staff_id: 'session',
    expires_at: 'session',
  }),
  t('invitations', 'legitimate_interest', {
    token_hash: 'credential-sealed',
    email: 'personal',
    invited_by: 'technical',
    created_at: 'technical',
    expires_at: 'technical',
  }),
  t('settings', 'none', {
    key: 'configuration',
    value: 'configuration',
  }),
  t('key_canary', 'none', {
    key_id: 'technical',
    sealed: 'technical',
  }),
  t('kysely_migration', 'none', {
    name: 'technical',
    timestamp: 'technical',
  }),
  t('kysely_migration_lock', 'none', {
    id: 'technical',
    is_locked: 'technical',
  }),
  // SQLite's own counter for AUTOINCREMENT keys (table names and the last id used).
  t('sqlite_sequence', 'none', {
    name: 'technical',
    seq: 'technical',
  }),
]);

/** When a cookie is set: only to signed-in staff, or only after an explicit language choice. */
export type CookieWho = 'staff' | 'explicit_choice';

export interface CookieEntry {
  readonly name: CookieName;
  readonly who: CookieWho;
  readonly purposeKey: string;
  /** Lifetime in seconds, or null for a browser-session cookie. */
  readonly maxAgeSeconds: number | null;
}

const LANG_MAX_AGE = 365 * 24 * 3600;

/** Every cookie Creneau can set (src/web/cookies.ts). Clients get none unless they pick a language. */
export const COOKIES: readonly CookieEntry[] = Object.freeze(
  COOKIE_BASE_NAMES.map((name): CookieEntry => {
    switch (name) {
      case 'session':
        return { name, who: 'staff', purposeKey: 'cookies.session', maxAgeSeconds: null };
      case 'remember':
        return { name, who: 'staff', purposeKey: 'cookies.remember', maxAgeSeconds: REMEMBER_MS / 1000 };
      case 'lang':
        return { name, who: 'explicit_choice', purposeKey: 'cookies.lang', maxAgeSeconds: LANG_MAX_AGE };
      case 'signin':
        return { name, who: 'staff', purposeKey: 'cookies.signin', maxAgeSeconds: SIGN_IN_COOKIE_SECONDS };
    }
  }),
);

/** The inventory entry of one table, if classified. */
export function tableEntry(name: string): TableEntry | undefined {
  return INVENTORY.find((e) => e.table === name);
}

/** A table's columns grouped by class, in DATA_CLASSES order (empty classes left out). */
export function columnsByClass(entry: TableEntry): { cls: DataClass; columns: string[] }[] {
  return DATA_CLASSES.map((cls) => ({ cls, columns: Object.entries(entry.columns).filter(([, c]) => c === cls).map(([n]) => n) })).filter((g) => g.columns.length > 0);
}
