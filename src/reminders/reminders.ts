/**
 * When a reminder is due, and the marker that records it on the event itself (DESIGN.md §5
 * `reminders`, "Reminder scan"). Pure: no clock, no I/O.
 *
 * The marker (CalDAV `X-CRENEAU-REMINDED`, Google private extended property) reads
 * `start=<UTC> sent=<lead>.<lead> claim=<lead>.<lead>@<UTC>`:
 * - `start` is the event's start the marks belong to: once the event is moved, they no longer
 *   apply and the reminders are due again for the new time;
 * - `sent` lists the lead times already sent for that start;
 * - `claim` is a scan that is sending right now: written with a conditional write BEFORE the
 *   e-mail leaves, so two processes never both send. A claim older than CLAIM_TTL_MS without
 *   its `sent` (the process died between the claim and the mark) is taken over: at worst the
 *   reminder leaves once more.
 */

import { utcStamp } from '../lib/time.js';

export const MIN_LEAD_MINUTES = 5;
export const MAX_LEAD_MINUTES = 20_160;
export const MAX_LEADS = 3;
/** A claim not turned into `sent` within this time belongs to a process that died. */
export const CLAIM_TTL_MS = 10 * 60_000;

export interface ReminderMarker {
  readonly start: number;
  readonly sent: readonly number[];
  readonly claim?: { readonly leads: readonly number[]; readonly at: number };
}

/** What the scan knows about one booking event. */
export interface ReminderSubject {
  readonly start: number;
  /** When the booking was made (CalDAV CREATED, Google `created`). */
  readonly created: number;
  readonly marker: ReminderMarker | null;
}


function unstamp(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isFinite(ms) ? ms : null;
}

function leadList(text: string): number[] | null {
  if (text === '') return [];
  const leads = text.split('.').map(Number);
  return leads.every((l) => Number.isInteger(l) && l >= MIN_LEAD_MINUTES && l <= MAX_LEAD_MINUTES) && leads.length <= 10 ? leads : null;
}

/** The marker's text (no character that iCalendar TEXT would have to escape). */
export function formatMarker(m: ReminderMarker): string {
  const parts = [`start=${utcStamp(m.start)}`, `sent=${[...m.sent].sort((a, b) => b - a).join('.')}`];
  if (m.claim) parts.push(`claim=${[...m.claim.leads].sort((a, b) => b - a).join('.')}@${utcStamp(m.claim.at)}`);
  return parts.join(' ');
}

/** Reads a marker; null when absent or not ours (then nothing counts as sent: a foreign value cannot silence a reminder for good). */
export function parseMarker(text: string | undefined): ReminderMarker | null {
  if (!text || text.length > 200) return null;
  const fields = new Map<string, string>();
  for (const part of text.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const start = unstamp(fields.get('start') ?? '');
  const sent = leadList(fields.get('sent') ?? '');
  if (start === null || sent === null) return null;
  const claimText = fields.get('claim');
  if (claimText === undefined) return { start, sent };
  const [leadsText = '', atText = ''] = claimText.split('@');
  const leads = leadList(leadsText);
  const at = unstamp(atText);
  if (leads === null || at === null) return null;
  return { start, sent, claim: { leads, at } };
}

/** Valid lead times: whole minutes in range, at most three, largest first, no repeats. */
export function normalizeLeads(leads: readonly number[]): number[] {
  const ok = leads.filter((l) => Number.isInteger(l) && l >= MIN_LEAD_MINUTES && l <= MAX_LEAD_MINUTES);
  return [...new Set(ok)].sort((a, b) => b - a).slice(0, MAX_LEADS);
}

export type Due = { readonly kind: 'none' } | { readonly kind: 'send'; readonly leads: readonly number[]; readonly claim: ReminderMarker };

/**
 * Which lead times are due now and not yet sent for the event's current start. A lead is due
 * from `start − lead` until the start, and only if the booking existed at `start − lead` (a
 * booking made inside a lead time gets no reminder for it). Several due at once (a scan was
 * missed) make one e-mail. `claim` is the marker to write before sending.
 */
export function dueReminders(subject: ReminderSubject, leadsMinutes: readonly number[], now: number): Due {
  const { start, created } = subject;
  if (now >= start) return { kind: 'none' };
  const marker = subject.marker && subject.marker.start === start ? subject.marker : null;
  const sent = new Set(marker?.sent ?? []);
  // A claim stamped ahead of our clock (another host's skew) counts as live.
  const liveClaim = marker?.claim && now - marker.claim.at < CLAIM_TTL_MS ? marker.claim : undefined;
  const claimed = new Set(liveClaim?.leads ?? []);
  const due = normalizeLeads(leadsMinutes).filter((lead) => {
    const at = start - lead * 60_000;
    return at <= now && created <= at && !sent.has(lead) && !claimed.has(lead);
  });
  if (due.length === 0) return { kind: 'none' };
  return { kind: 'send', leads: due, claim: { start, sent: [...sent], claim: { leads: due, at: now } } };
}

/** The marker once the claimed reminder has left. */
export function markSent(claim: ReminderMarker): ReminderMarker {
  const sent = new Set([...claim.sent, ...(claim.claim?.leads ?? [])]);
  return { start: claim.start, sent: [...sent].sort((a, b) => b - a) };
}

/** The span a scan reads: events starting before now + the largest lead + one interval. */
export function scanRange(now: number, leadsMinutes: readonly number[], intervalMs: number): { start: number; end: number } | null {
  const leads = normalizeLeads(leadsMinutes);
  const longest = leads[0];
  if (longest === undefined) return null;
  return { start: now, end: now + longest * 60_000 + intervalMs };
}
