import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keyring } from './keyring.js';

/**
 * Booking ids and tokens (DESIGN.md §3). An id is 128 CSPRNG bits in base32hex lower-case
 * (valid as a Google event id); a token is `<id>.<mac>`, where the MAC binds the key id, the
 * staff member, the calendar connection and the booking id. Nothing is stored.
 */

const B32HEX = '0123456789abcdefghijklmnopqrstuv';

/** base32hex lower-case without padding. */
export function base32hex(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32HEX[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32HEX[(buffer << (5 - bits)) & 31];
  return out;
}

/** A new booking id: 128 random bits, 26 base32hex characters. */
export function newBookingId(): string {
  return base32hex(randomBytes(16));
}

export const BOOKING_ID = /^[0-9a-v]{26}$/;

export interface TokenSubject {
  readonly staffId: number;
  readonly connectionId: number;
  readonly bookingId: string;
}

function mac(keyring: Keyring, s: TokenSubject): string {
  const h = createHmac('sha256', keyring.macKey);
  h.update(`booking-token|${keyring.keyId}|${s.staffId}|${s.connectionId}|${s.bookingId}`);
  return base32hex(h.digest().subarray(0, 20)); // 160 bits ≥ 128
}

/** The `/b/<token>` token for a booking. */
export function bookingToken(keyring: Keyring, s: TokenSubject): string {
  return `${s.bookingId}.${mac(keyring, s)}`;
}

/** Splits a token into id and MAC, or null when it cannot be one of ours. */
export function parseToken(token: string): { bookingId: string; mac: string } | null {
  const m = /^([0-9a-v]{26})\.([0-9a-v]{32})$/.exec(token);
  return m ? { bookingId: m[1] as string, mac: m[2] as string } : null;
}

/** Constant-time check that `token` was issued for this subject. */
export function verifyBookingToken(keyring: Keyring, token: string, s: Omit<TokenSubject, 'bookingId'>): boolean {
  const parsed = parseToken(token);
  if (!parsed) return false;
  const expected = Buffer.from(mac(keyring, { ...s, bookingId: parsed.bookingId }));
  const given = Buffer.from(parsed.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A keyed hash for values that must never be stored in clear (e.g. throttling keys). */
export function keyedHash(keyring: Keyring, purpose: string, value: string): string {
  return createHmac('sha256', keyring.macKey).update(`${purpose}|${value}`).digest('base64url');
}
