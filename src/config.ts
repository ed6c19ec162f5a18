import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';

/**
 * The only reader of the environment. Every variable of DESIGN.md §5 is parsed and
 * validated here once; a bad value stops the start with one line naming the variable and
 * the fix. The result is frozen and can be printed redacted.
 */

export type LogMode = 'off' | 'errors' | 'debug';
export type Locale = 'en' | 'fr';
export const LOCALES: readonly Locale[] = ['en', 'fr'];

export interface Config {
  readonly baseUrl: URL;
  /** true when BASE_URL is https: Secure cookies with the __Host- prefix. */
  readonly secureCookies: boolean;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** The master key from CRENEAU_SECRET_KEY(_FILE), or null: generated into DATA_DIR/secret.key. */
  readonly secretKey: Buffer | null;
  readonly secretKeySource: 'env' | 'file' | 'generated';
  readonly log: LogMode;
  readonly defaultLocale: Locale;
  readonly trustProxy: boolean;
  readonly google: { readonly clientId: string; readonly clientSecret: string; readonly oauthUrl: string | null; readonly apiUrl: string | null } | null;
  readonly smtp: { readonly url: string; readonly from: string } | null;
  readonly caldavAllowHosts: readonly string[];
  readonly embedOrigins: readonly string[];
  /** CRENEAU_REMINDER_INTERVAL_SECONDS: how often calendars are scanned for due reminders (ms). */
  readonly reminderIntervalMs: number;
  /** Settings that start but are probably wrong (printed at start, never secret). */
  readonly warnings: readonly string[];
  /** OpenID Connect sign-in (DESIGN.md §5), or null when CRENEAU_OIDC_ISSUER is unset. */
  readonly oidc: { readonly issuer: URL; readonly clientId: string; readonly clientSecret: string; readonly label: string } | null;
  /** false with CRENEAU_PASSWORD_LOGIN=off: sign-in through OIDC or a passkey only. */
  readonly passwordLogin: boolean;
}

/** A configuration error: one line naming the variable and the fix. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    fix: string,
  ) {
    super(`${variable}: ${fix}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads VAR or VAR_FILE (not both); empty strings count as unset. */
function secret(env: Env, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(`${name}_FILE`, `cannot read ${file}; check the path and its permissions`);
    }
  }
  return direct === '' ? undefined : direct;
}

function parseUrl(name: string, value: string, fix: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, fix);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, fix);
  return url;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function validAllowEntry(entry: string): boolean {
  const [addr, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  if (bits !== undefined) {
    const version = isIP(addr);
    if (version === 0 || !/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (version === 4 ? 32 : 128);
  }
  return isIP(addr) !== 0 || HOSTNAME.test(addr);
}

/** The process environment: read here only, handed to loadConfig by the entry point. */
export function processEnvironment(): Env {
  return process.env;
}

/** Builds the frozen configuration from an environment (the process's, or a test's). */
export function loadConfig(env: Env): Config {
  const portText = env.CRENEAU_PORT || '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    throw new ConfigError('CRENEAU_PORT', 'must be a port number between 0 and 65535');
  }
  const host = env.CRENEAU_HOST || '0.0.0.0';
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new ConfigError('CRENEAU_HOST', 'must be an IP address or host name to listen on, such as 0.0.0.0');
  }

  // Without a base URL, links point at this machine on the port it listens on.
  const baseUrl = parseUrl(
    'CRENEAU_BASE_URL',
    env.CRENEAU_BASE_URL || `http://localhost:${port === 0 ? 3000 : port}`,
    'must be an absolute http(s) URL such as https://booking.example.com',
  );
  if (baseUrl.search || baseUrl.hash || baseUrl.username || baseUrl.password) {
    throw new ConfigError('CRENEAU_BASE_URL', 'must not contain credentials, a query or a fragment');
  }
  if (!baseUrl.pathname.endsWith('/')) baseUrl.pathname += '/';

  const log = (env.CRENEAU_LOG || 'errors') as LogMode;
  if (!['off', 'errors', 'debug'].includes(log)) throw new ConfigError('CRENEAU_LOG', 'must be off, errors or debug');

  const defaultLocale = (env.CRENEAU_DEFAULT_LOCALE || 'en') as Locale;
  if (!LOCALES.includes(defaultLocale)) {
    throw new ConfigError('CRENEAU_DEFAULT_LOCALE', `must be one of: ${LOCALES.join(', ')}`);
  }

  const trustText = (env.CRENEAU_TRUST_PROXY || 'off').toLowerCase();
  const truthy = ['1', 'true', 'on', 'yes'];
  const falsy = ['0', 'false', 'off', 'no'];
  if (!truthy.includes(trustText) && !falsy.includes(trustText)) {
    throw new ConfigError('CRENEAU_TRUST_PROXY', 'must be on or off');
  }

  let secretKey: Buffer | null = null;
  const keyText = secret(env, 'CRENEAU_SECRET_KEY');
  if (keyText !== undefined) {
    const decoded = Buffer.from(keyText, 'base64');
    if (decoded.length !== 32 || !/^[A-Za-z0-9+/]+=*$/.test(keyText)) {
      throw new ConfigError('CRENEAU_SECRET_KEY', 'must be 32 random bytes in base64; create one with: openssl rand -base64 32');
    }
    secretKey = decoded;
  }

  const clientId = env.CRENEAU_GOOGLE_CLIENT_ID || undefined;
  const clientSecret = secret(env, 'CRENEAU_GOOGLE_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new ConfigError(
      clientId ? 'CRENEAU_GOOGLE_CLIENT_SECRET' : 'CRENEAU_GOOGLE_CLIENT_ID',
      'Google needs both CRENEAU_GOOGLE_CLIENT_ID and CRENEAU_GOOGLE_CLIENT_SECRET (or neither)',
    );
  }
  const oauthUrl = env.CRENEAU_GOOGLE_OAUTH_URL
    ? parseUrl('CRENEAU_GOOGLE_OAUTH_URL', env.CRENEAU_GOOGLE_OAUTH_URL, 'must be an absolute http(s) URL').toString().replace(/\/$/, '')
    : null;
  const apiUrl = env.CRENEAU_GOOGLE_API_URL
    ? parseUrl('CRENEAU_GOOGLE_API_URL', env.CRENEAU_GOOGLE_API_URL, 'must be an absolute http(s) URL').toString().replace(/\/$/, '')
    : null;

  const smtpUrl = secret(env, 'CRENEAU_SMTP_URL');
  let smtp: Config['smtp'] = null;
  if (smtpUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(smtpUrl);
    } catch {
      throw new ConfigError('CRENEAU_SMTP_URL', 'must look like smtps://user:password@mail.example.com:465');
    }
    if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
      throw new ConfigError('CRENEAU_SMTP_URL', 'must start with smtp:// or smtps://');
    }
    const from = env.CRENEAU_MAIL_FROM;
    if (!from || !/^[^\s@<>]+@[^\s@<>]+$/.test(from.replace(/^.*<(.*)>\s*$/, '$1'))) {
      throw new ConfigError('CRENEAU_MAIL_FROM', 'set the sender address, such as "Creneau <booking@example.com>", when CRENEAU_SMTP_URL is set');
    }
    smtp = { url: smtpUrl, from };
  }

  const caldavAllowHosts = list(env.CRENEAU_CALDAV_ALLOW_HOSTS);
  for (const entry of caldavAllowHosts) {
    if (!validAllowEntry(entry)) {
      throw new ConfigError('CRENEAU_CALDAV_ALLOW_HOSTS', `"${entry}" is not a host name, IP address or CIDR such as 192.168.1.0/24`);
    }
  }

  const embedOrigins = list(env.CRENEAU_EMBED_ORIGINS).map((o) => {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError('CRENEAU_EMBED_ORIGINS', `"${o}" is not an origin such as https://www.example.com`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== o.replace(/\/$/, '')) {
      throw new ConfigError('CRENEAU_EMBED_ORIGINS', `"${o}" is not an origin such as https://www.example.com`);
    }
    return url.origin;
  });

  const oidc = readOidc(env);
  const passwordText = (env.CRENEAU_PASSWORD_LOGIN || 'on').toLowerCase();
  if (!truthy.includes(passwordText) && !falsy.includes(passwordText)) {
    throw new ConfigError('CRENEAU_PASSWORD_LOGIN', 'must be on or off');
  }
  const passwordLogin = truthy.includes(passwordText);
  if (!passwordLogin && !oidc) {
    throw new ConfigError('CRENEAU_PASSWORD_LOGIN', 'off needs single sign-on: set CRENEAU_OIDC_ISSUER, CRENEAU_OIDC_CLIENT_ID and CRENEAU_OIDC_CLIENT_SECRET first');
  }

  const intervalText = env.CRENEAU_REMINDER_INTERVAL_SECONDS || '60';
  const intervalSeconds = Number(intervalText);
  if (!/^\d{1,6}$/.test(intervalText) || intervalSeconds < 5 || intervalSeconds > 86_400) {
    throw new ConfigError('CRENEAU_REMINDER_INTERVAL_SECONDS', 'must be a whole number of seconds between 5 and 86400 (default 60)');
  }

  const dataDir = resolve(env.CRENEAU_DATA_DIR || './data');

  return Object.freeze({
    baseUrl,
    secureCookies: baseUrl.protocol === 'https:',
    host,
    port,
    dataDir,
    secretKey,
    secretKeySource: secretKey ? (env.CRENEAU_SECRET_KEY_FILE ? 'file' : 'env') : 'generated',
    log,
    defaultLocale,
    trustProxy: truthy.includes(trustText),
    google: clientId && clientSecret ? Object.freeze({ clientId, clientSecret, oauthUrl, apiUrl }) : null,
    smtp: smtp ? Object.freeze(smtp) : null,
    caldavAllowHosts: Object.freeze(caldavAllowHosts),
    embedOrigins: Object.freeze(embedOrigins),
    reminderIntervalMs: intervalSeconds * 1000,
    warnings: Object.freeze(baseUrlWarnings(baseUrl, port)),
    oidc: oidc ? Object.freeze(oidc) : null,
    passwordLogin,
  });
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A base URL on this machine that names another port than the one Creneau listens on cannot
 * be reached by anyone: every link in every invitation would be wrong, silently.
 */
function baseUrlWarnings(baseUrl: URL, port: number): string[] {
  const basePort = Number(baseUrl.port || (baseUrl.protocol === 'https:' ? 443 : 80));
  const loopback = LOOPBACK_HOSTS.has(baseUrl.hostname) || baseUrl.hostname.startsWith('127.');
  if (loopback && port !== 0 && basePort !== port) {
    return [
      `CRENEAU_BASE_URL: ${baseUrl.origin} is this machine on port ${basePort}, but Creneau listens on port ${port}; links in pages, e-mails and invitations would not work. Set CRENEAU_BASE_URL to the address clients use.`,
    ];
  }
  return [];
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The OpenID Connect block: all three of issuer, client id and secret, or none. */
function readOidc(env: Env): Config['oidc'] {
  const issuerText = env.CRENEAU_OIDC_ISSUER || undefined;
  const clientId = env.CRENEAU_OIDC_CLIENT_ID || undefined;
  const clientSecret = secret(env, 'CRENEAU_OIDC_CLIENT_SECRET');
  if (issuerText === undefined && clientId === undefined && clientSecret === undefined) return null;
  const missing = issuerText === undefined ? 'CRENEAU_OIDC_ISSUER' : clientId === undefined ? 'CRENEAU_OIDC_CLIENT_ID' : clientSecret === undefined ? 'CRENEAU_OIDC_CLIENT_SECRET' : null;
  if (missing || issuerText === undefined || clientId === undefined || clientSecret === undefined) {
    throw new ConfigError(missing ?? 'CRENEAU_OIDC_ISSUER', 'single sign-on needs CRENEAU_OIDC_ISSUER, CRENEAU_OIDC_CLIENT_ID and CRENEAU_OIDC_CLIENT_SECRET (or none of them)');
  }
  const issuer = parseUrl('CRENEAU_OIDC_ISSUER', issuerText, 'must be the issuer URL of your identity provider, such as https://auth.example.com/application/o/creneau/');
  if (issuer.search || issuer.hash || issuer.username || issuer.password) {
    throw new ConfigError('CRENEAU_OIDC_ISSUER', 'must not contain credentials, a query or a fragment');
  }
  // Tokens travel over this connection: plain http only to this machine (a provider in a test or beside the app).
  if (issuer.protocol === 'http:' && !isLoopback(issuer.hostname)) {
    throw new ConfigError('CRENEAU_OIDC_ISSUER', 'must use https:// (plain http:// is accepted only for a provider on this machine, such as http://127.0.0.1:9000)');
  }
  const label = (env.CRENEAU_OIDC_LABEL ?? '').trim() || 'Single sign-on';
  if (label.length > 60) throw new ConfigError('CRENEAU_OIDC_LABEL', 'use at most 60 characters for the button text');
  return { issuer, clientId, clientSecret, label };
}

/** The configuration with secrets removed, for `audit` and debug output. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    baseUrl: config.baseUrl.toString(),
    host: config.host,
    port: config.port,
    dataDir: config.dataDir,
    secretKey: config.secretKeySource,
    log: config.log,
    defaultLocale: config.defaultLocale,
    trustProxy: config.trustProxy,
    google: config.google ? { clientId: config.google.clientId, clientSecret: '(set)', oauthUrl: config.google.oauthUrl, apiUrl: config.google.apiUrl } : null,
    smtp: config.smtp ? { host: smtpHost(config.smtp.url), from: config.smtp.from } : null,
    caldavAllowHosts: config.caldavAllowHosts,
    embedOrigins: config.embedOrigins,
    reminderIntervalSeconds: config.reminderIntervalMs / 1000,
    oidc: config.oidc ? { issuer: config.oidc.issuer.toString(), clientId: config.oidc.clientId, clientSecret: '(set)', label: config.oidc.label } : null,
    passwordLogin: config.passwordLogin,
  };
}

/** The SMTP host name, never the credentials in the URL. */
export function smtpHost(url: string): string {
  return new URL(url).hostname;
}
