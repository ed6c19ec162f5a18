import type { ServiceRow } from '../catalog/catalog.js';

/**
 * What a service asks of a booking beyond its slot rules (DESIGN.md §5 "Service fields
 * added"): reminders, approval, double opt-in and the cancel/reschedule cut-off. The catalog
 * stores them on the service row; this module only reads them. Pure.
 */
export interface BookingPolicy {
  /** Lead times in minutes (up to three, 5–20160), each e-mailed once before the start. */
  readonly reminders: readonly number[];
  /** The booking is a request (`STATUS:TENTATIVE`) until the staff member approves it. */
  readonly approval: boolean;
  /** Double opt-in: nothing is written until the client opens the e-mailed link. */
  readonly confirmEmail: boolean;
  /** Inside this many minutes before the start, the client can no longer cancel or move. */
  readonly cancelCutoffMinutes: number;
}

export const DEFAULT_POLICY: BookingPolicy = Object.freeze({ reminders: Object.freeze([]), approval: false, confirmEmail: false, cancelCutoffMinutes: 0 });

/** Whether the client may still cancel or move a booking that starts at `start`. */
export function clientMayChange(start: number, now: number, cancelCutoffMinutes: number): boolean {
  return now < start - cancelCutoffMinutes * 60_000;
}

/** A service's policy, from its row; a booking whose service is gone has the defaults. */
export function policyOf(service: Pick<ServiceRow, 'reminders' | 'approval' | 'confirmEmail' | 'cancelCutoffMinutes'> | undefined): BookingPolicy {
  if (!service) return DEFAULT_POLICY;
  return { reminders: service.reminders, approval: service.approval, confirmEmail: service.confirmEmail, cancelCutoffMinutes: service.cancelCutoffMinutes };
}
