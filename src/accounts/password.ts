import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt from node:crypto, a random salt per user, stored as
 * `scrypt$N$r$p$salt$hash` (base64url) so the cost can be raised later without a migration.
 */

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LEN, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a new password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

let dummy: Promise<string> | null = null;

/**
 * Checks a password against a stored hash. With no hash (unknown user, no password set) it
 * still runs one scrypt against a dummy hash, so the answer takes the same time.
 */
export async function verifyPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  const parsed = encoded ? parseHash(encoded) : null;
  if (!parsed) {
    dummy ??= hashPassword('creneau dummy password');
    const d = parseHash(await dummy);
    if (d) await derive(password, d.salt, d.n, d.r, d.p);
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.n, parsed.r, parsed.p);
  return key.length === parsed.hash.length && timingSafeEqual(key, parsed.hash);
}

function parseHash(encoded: string): { n: number; r: number; p: number; salt: Buffer; hash: Buffer } | null {
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/.exec(encoded);
  if (!m) return null;
  const n = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  // Refuse absurd costs from a tampered row rather than hang the process.
  if (n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { n, r, p, salt: Buffer.from(m[4] as string, 'base64url'), hash: Buffer.from(m[5] as string, 'base64url') };
}

/** A random password for `creneau user create` without --password-file (printed once). */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
