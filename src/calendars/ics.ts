import ICAL from 'ical.js';
import type { BookingEvent, NewBookingEvent } from './provider.js';
import { utcStamp } from '../lib/time.js';

/**
 * The event Creneau writes for a booking, and reading it back. Values are escaped here, and any
 * control character that could smuggle a property in is refused: callers validate earlier, this
 * is the last line of defence.
 */

export const PRODID = '-//Creneau//Creneau//EN';

export type BookingStatus = 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED';

export interface BookingIcsOptions {
  /** Host of CRENEAU_BASE_URL: UID = `<id>@<host>`. */
  readonly uidHost: string;
  readonly sequence: number;
  readonly status: BookingStatus;
  /** DTSTAMP (epoch ms). */
  readonly stamp: number;
  /** iTIP method when the ICS travels by e-mail (iMIP); absent for the calendar resource. */
  readonly method?: 'REQUEST' | 'CANCEL';
  /**
   * Creneau e-mails the invitation itself: the stored attendee says SCHEDULE-AGENT=CLIENT
   * (RFC 6638 §7.1) so a scheduling server does not send a second one. Never in iMIP messages.
   */
  readonly scheduleAgentClient?: boolean;
  /** CREATED (epoch ms); DTSTAMP's when absent. */
  readonly created?: number;
}

/** A booking read back from its ICS (everything but the ETag, which comes from HTTP). */
export type ParsedBooking = Omit<BookingEvent, 'etag'>;

/** Thrown when a value would break the ICS structure (never expected after form validation). */
export class IcsValueError extends Error {
  constructor(field: string) {
    super(`invalid characters in ${field}`);
    this.name = 'IcsValueError';
  }
}

// C0 controls (except TAB, which is harmless text), DEL, and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/;
const CONTROL_BUT_LF = /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/;

function checked(field: string, value: string, allowNewline = false): string {
  if ((allowNewline ? CONTROL_BUT_LF : CONTROL).test(value)) throw new IcsValueError(field);
  return value;
}

/** RFC 5545 §3.3.11 TEXT escaping. */
function text(field: string, value: string, allowNewline = false): string {
  return checked(field, value, allowNewline).replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

/** A parameter value, always quoted; `"` and `^` per RFC 6868. */
function param(field: string, value: string): string {
  return `"${checked(field, value).replace(/\^/g, '^^').replace(/"/g, "^'")}"`;
}

function mailto(field: string, email: string): string {
  checked(field, email);
  if (!/^[^\s@"<>]+@[^\s@"<>]+$/.test(email)) throw new IcsValueError(field);
  return `mailto:${email}`;
}

function utc(ms: number): string {
  if (!Number.isFinite(ms)) throw new IcsValueError('date');
  return utcStamp(ms);
}

/** Folds a content line at 75 octets without splitting a UTF-8 sequence (RFC 5545 §3.1). */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (octets + size > 75) {
      out.push(current);
      current = ' ';
      octets = 1;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n');
}

/** The booking as an iCalendar object (CRLF, folded), ready for PUT or an iMIP attachment. */
export function buildBookingIcs(event: NewBookingEvent, opts: BookingIcsOptions): string {
  if (!/^[0-9a-v]{1,64}$/.test(event.id)) throw new IcsValueError('id');
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(opts.uidHost)) throw new IcsValueError('uidHost');
  if (!/^[a-z0-9][a-z0-9-]{0,99}$/.test(event.serviceSlug)) throw new IcsValueError('serviceSlug');
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(event.timeZone)) throw new IcsValueError('timeZone');
  if (!Number.isInteger(opts.sequence) || opts.sequence < 0) throw new IcsValueError('sequence');
  if (!(event.end > event.start)) throw new IcsValueError('end');
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${PRODID}`,
    'CALSCALE:GREGORIAN',
    ...(opts.method ? [`METHOD:${opts.method}`] : []),
    'BEGIN:VEVENT',
    `UID:${event.id}@${opts.uidHost}`,
    `DTSTAMP:${utc(opts.stamp)}`,
    // When the booking was made: a reminder whose moment had passed by then is not sent.
    `CREATED:${utc(opts.created ?? opts.stamp)}`,
    `DTSTART:${utc(event.start)}`,
    `DTEND:${utc(event.end)}`,
    `SEQUENCE:${opts.sequence}`,
    `STATUS:${opts.status}`,
    `SUMMARY:${text('summary', event.summary)}`,
    ...(event.description ? [`DESCRIPTION:${text('description', event.description.replace(/\r\n?/g, '\n'), true)}`] : []),
    ...(event.location ? [`LOCATION:${text('location', event.location)}`] : []),
    `ORGANIZER;CN=${param('organizer', event.organizer.name)}:${mailto('organizer', event.organizer.email)}`,
    `ATTENDEE;CN=${param('attendee', event.attendee.name)}${opts.scheduleAgentClient && !opts.method ? ';SCHEDULE-AGENT=CLIENT' : ''};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:${mailto('attendee', event.attendee.email)}`,
    `X-CRENEAU-SERVICE:${event.serviceSlug}`,
    `X-CRENEAU-TIMEZONE:${event.timeZone}`,
    ...(event.lang && /^[a-z]{2}(-[A-Z]{2})?$/.test(event.lang) ? [`X-CRENEAU-LANG:${event.lang}`] : []),
    ...(event.clientTimeZone && /^[A-Za-z0-9_+\-/]{1,64}$/.test(event.clientTimeZone) ? [`X-CRENEAU-CLIENT-TZ:${event.clientTimeZone}`] : []),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function personOf(prop: ICAL.Property | null): { name: string; email: string } {
  if (!prop) return { name: '', email: '' };
  const value = str(prop.getFirstValue());
  return { name: str(prop.getParameter('cn')), email: value.replace(/^mailto:/i, '') };
}

function instant(prop: ICAL.Property | null): number | null {
  const v: unknown = prop?.getFirstValue();
  if (!(v instanceof ICAL.Time)) return null;
  // Our own events are in UTC; a staff edit in a calendar app may add a TZID the server resolves.
  if (v.isDate) return null;
  const tzid = prop?.getParameter('tzid');
  if (typeof tzid === 'string' && v.zone?.tzid !== tzid) return null;
  return v.toJSDate().getTime();
}

/** Reads a Creneau booking back from its ICS; null when it is not one (or unreadable). */
export function parseBookingIcs(ics: string): ParsedBooking | null {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(ics) as unknown[]);
  } catch {
    return null;
  }
  if (root.name !== 'vcalendar') return null;
  const masters = root.getAllSubcomponents('vevent').filter((e) => !e.hasProperty('recurrence-id'));
  const ev = masters[0];
  if (!ev || masters.length !== 1) return null;
  const service = str(ev.getFirstPropertyValue('x-creneau-service'));
  const uid = str(ev.getFirstPropertyValue('uid'));
  const at = uid.lastIndexOf('@');
  const id = at > 0 ? uid.slice(0, at) : '';
  const registered = registerZones(root);
  const start = instant(ev.getFirstProperty('dtstart'));
  let end = instant(ev.getFirstProperty('dtend'));
  const dur: unknown = ev.getFirstPropertyValue('duration');
  if (end === null && start !== null && dur instanceof ICAL.Duration) end = start + dur.toSeconds() * 1000;
  unregisterZones(registered);
  if (!service || !/^[0-9a-v]{1,64}$/.test(id) || start === null || end === null) return null;
  const sequence = Number(ev.getFirstPropertyValue('sequence') ?? 0);
  const status = str(ev.getFirstPropertyValue('status')).toUpperCase();
  const created = instant(ev.getFirstProperty('created'));
  const lang = str(ev.getFirstPropertyValue('x-creneau-lang'));
  const clientTimeZone = str(ev.getFirstPropertyValue('x-creneau-client-tz'));
  const reminded = str(ev.getFirstPropertyValue('x-creneau-reminded'));
  return {
    id,
    start,
    end,
    timeZone: str(ev.getFirstPropertyValue('x-creneau-timezone')) || 'UTC',
    summary: str(ev.getFirstPropertyValue('summary')),
    description: str(ev.getFirstPropertyValue('description')),
    location: str(ev.getFirstPropertyValue('location')),
    organizer: personOf(ev.getFirstProperty('organizer')),
    attendee: personOf(ev.getFirstProperty('attendee')),
    serviceSlug: service,
    cancelled: status === 'CANCELLED',
    sequence: Number.isInteger(sequence) && sequence >= 0 ? sequence : 0,
    ...(status === 'TENTATIVE' ? { status: 'TENTATIVE' as const } : {}),
    ...(lang ? { lang } : {}),
    ...(clientTimeZone ? { clientTimeZone } : {}),
    ...(created !== null ? { created } : {}),
    ...(reminded ? { reminded } : {}),
  };
}

/** A stored booking opened for an edit: its one master VEVENT and its SEQUENCE (0 when absent or odd); null when unreadable. */
function editable(ics: string): { root: ICAL.Component; ev: ICAL.Component; sequence: number } | null {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(ics) as unknown[]);
  } catch {
    return null;
  }
  const masters = root.getAllSubcomponents('vevent').filter((e) => !e.hasProperty('recurrence-id'));
  const ev = masters[0];
  if (!ev || masters.length !== 1) return null;
  const sequence = Number(ev.getFirstPropertyValue('sequence') ?? 0);
  return { root, ev, sequence: Number.isInteger(sequence) && sequence >= 0 ? sequence : 0 };
}

/**
 * Rewrites the times of a stored booking (a move), keeping every other property the calendar
 * app or server may have added (alarms, PARTSTAT), and bumps SEQUENCE.
 */
export function moveBookingIcs(ics: string, start: number, end: number, stamp: number, description?: string): string | null {
  if (!(end > start)) throw new IcsValueError('end');
  const edit = editable(ics);
  if (!edit) return null;
  const { root, ev, sequence } = edit;
  ev.removeAllProperties('dtstart');
  ev.removeAllProperties('dtend');
  ev.removeAllProperties('duration');
  ev.removeAllProperties('sequence');
  ev.removeAllProperties('dtstamp');
  const utcTime = (ms: number): ICAL.Time => ICAL.Time.fromJSDate(new Date(ms), true);
  ev.addPropertyWithValue('dtstamp', utcTime(stamp));
  ev.addPropertyWithValue('dtstart', utcTime(start));
  ev.addPropertyWithValue('dtend', utcTime(end));
  ev.addPropertyWithValue('sequence', sequence + 1);
  if (description !== undefined) {
    ev.removeAllProperties('description');
    ev.addPropertyWithValue('description', description);
  }
  return root.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

/**
 * The cancelled booking as it stays in the calendar (a tombstone, so the booking form that made
 * it cannot make it again — docs/caldav.md): STATUS:CANCELLED, transparent, SEQUENCE bumped,
 * and the recap (the client's answers and the dead links) removed. The organizer and attendee
 * stay, so a server that schedules sends the attendee its CANCEL. Null when unreadable.
 */
export function cancelBookingIcs(ics: string, stamp: number, note?: string): string | null {
  const edit = editable(ics);
  if (!edit) return null;
  const { root, ev, sequence } = edit;
  for (const name of ['status', 'transp', 'sequence', 'dtstamp', 'description']) ev.removeAllProperties(name);
  for (const alarm of ev.getAllSubcomponents('valarm')) ev.removeSubcomponent(alarm);
  ev.addPropertyWithValue('dtstamp', ICAL.Time.fromJSDate(new Date(stamp), true));
  ev.addPropertyWithValue('sequence', sequence + 1);
  ev.addPropertyWithValue('status', 'CANCELLED');
  ev.addPropertyWithValue('transp', 'TRANSPARENT');
  // The client's message for the staff member, checked where it was typed; the only text left.
  if (note) ev.addPropertyWithValue('description', checked('note', note.replace(/\r\n?/g, '\n'), true));
  return root.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** The booking with its X-CRENEAU-REMINDED marker replaced (nothing else touched); null when it cannot be read. */
export function withReminderMarker(ics: string, marker: string): string | null {
  if (!/^[\x20-\x7e]{1,200}$/.test(marker)) return null;
  const edit = editable(ics);
  if (!edit) return null;
  edit.ev.removeAllProperties('x-creneau-reminded');
  edit.ev.addPropertyWithValue('x-creneau-reminded', marker);
  return edit.root.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** A request approved: STATUS:CONFIRMED, SEQUENCE + 1 (attendees' copies are updated); null when unreadable. */
export function confirmedIcs(ics: string, stamp: number): string | null {
  const edit = editable(ics);
  if (!edit) return null;
  const { root, ev, sequence } = edit;
  for (const name of ['status', 'sequence', 'dtstamp']) ev.removeAllProperties(name);
  ev.addPropertyWithValue('dtstamp', ICAL.Time.fromJSDate(new Date(stamp), true));
  ev.addPropertyWithValue('sequence', sequence + 1);
  ev.addPropertyWithValue('status', 'CONFIRMED');
  return root.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** Lets ical.js resolve TZIDs of a staff-edited event from its own VTIMEZONE blocks. */
function registerZones(root: ICAL.Component): string[] {
  const added: string[] = [];
  for (const vtz of root.getAllSubcomponents('vtimezone')) {
    const id = str(vtz.getFirstPropertyValue('tzid'));
    if (id && !ICAL.TimezoneService.has(id)) {
      ICAL.TimezoneService.register(vtz);
      added.push(id);
    }
  }
  return added;
}

function unregisterZones(ids: readonly string[]): void {
  for (const id of ids) ICAL.TimezoneService.remove(id);
}
