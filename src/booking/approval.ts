import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { base32hex, parseToken, type TokenSubject } from '../crypto/token.js';

/**
 * Approval (DESIGN.md §5 `approval`): the staff member's approve/decline links. Like the
 * client's `/b/<token>`, a token is `<id>.<mac>` and nothing is stored; the MAC has its own
 * purpose, so a client's manage token never approves anything and the staff link never
 * manages the booking as the client.
 */

export type ApprovalAction = 'approve' | 'decline';

function mac(keyring: Keyring, s: TokenSubject): string {
  const h = createHmac('sha256', keyring.macKey);
  h.update(`approval-token|${keyring.keyId}|${s.staffId}|${s.connectionId}|${s.bookingId}`);
  return base32hex(h.digest().subarray(0, 20));
}

/** The token of the staff member's approve and decline links for one request. */
export function approvalToken(keyring: Keyring, s: TokenSubject): string {
  return `${s.bookingId}.${mac(keyring, s)}`;
}

/** Constant-time check that `token` was issued for this staff member and connection. */
export function verifyApprovalToken(keyring: Keyring, token: string, s: Omit<TokenSubject, 'bookingId'>): boolean {
  const parsed = parseToken(token);
  if (!parsed) return false;
  const expected = Buffer.from(mac(keyring, { ...s, bookingId: parsed.bookingId }));
  const given = Buffer.from(parsed.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Where a request stands, read from its event's STATUS. */
export type RequestState = 'pending' | 'confirmed' | 'cancelled';

/** What an approve or decline does to a request in a given state (both are idempotent). */
export function approvalStep(action: ApprovalAction, state: RequestState): 'act' | 'already_done' | 'too_late' {
  if (action === 'approve') return state === 'pending' ? 'act' : state === 'confirmed' ? 'already_done' : 'too_late';
  return state === 'pending' ? 'act' : state === 'cancelled' ? 'already_done' : 'too_late';
}
