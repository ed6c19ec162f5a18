import { isZone } from '../lib/time.js';
import { ianaOfWindowsZone } from './windows-zones.js';

/**
 * Text-level repair of calendar objects before ical.js parses them (issue #14 §3): real clients
 * write data that is slightly off RFC 5545, and read literally it either blocks every slot of the
 * staff member (fail closed) or lands at the wrong hour. Each repair reads the data the way the
 * client that wrote it meant; anything not recognised is left alone, and busy.ts still refuses
 * what it cannot read.
 */

/** Properties whose value is a DATE or a DATE-TIME. */
const DATE_PROPS = new Set(['DTSTART', 'DTEND', 'DUE', 'RECURRENCE-ID', 'EXDATE', 'RDATE']);

interface Line {
  readonly name: string;
  /** Raw parameters, each `NAME=value` as written (quotes kept). */
  params: string[];
  value: string;
}

/** Splits an unfolded content line into name, parameters and value, honouring quoted parameter values. */
function splitLine(raw: string): Line | null {
  let i = 0;
  let inQuote = false;
  const cuts: number[] = [];
  for (; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && c === ';') cuts.push(i);
    else if (!inQuote && c === ':') break;
  }
  if (i >= raw.length) return null;
  const head = raw.slice(0, i);
  const nameEnd = cuts.length > 0 ? (cuts[0] as number) : head.length;
  const params: string[] = [];
  for (let k = 0; k < cuts.length; k++) params.push(head.slice((cuts[k] as number) + 1, k + 1 < cuts.length ? cuts[k + 1] : head.length));
  return { name: head.slice(0, nameEnd).toUpperCase(), params, value: raw.slice(i + 1) };
}

function joinLine(l: Line): string {
  return [l.name, ...l.params].join(';') + ':' + l.value;
}

function paramName(p: string): string {
  const at = p.indexOf('=');
  return (at < 0 ? p : p.slice(0, at)).toUpperCase();
}

function paramValue(p: string): string {
  const at = p.indexOf('=');
  return at < 0 ? '' : p.slice(at + 1);
}

/** A TZID as written, without the quotes, blanks and leading slashes some producers add. */
export function cleanTzid(raw: string): string {
  return raw.trim().replace(/^"+|"+$/g, '').trim().replace(/^\/+/, '');
}

/** A parameter value that holds `:`, `;` or `,` must be quoted (RFC 5545 §3.2). */
function quoted(v: string): string {
  return /[:;,]/.test(v) ? `"${v.replace(/"/g, '')}"` : v;
}

/**
 * The zone a (cleaned) TZID means when the object has no VTIMEZONE of that name: an IANA name,
 * a Windows name (CLDR map), or an IANA name behind a prefix ("mozilla.org/20070129_1/Europe/Paris").
 */
export function resolveTzid(name: string): string | undefined {
  if (isZone(name)) return name;
  const windows = ianaOfWindowsZone(name);
  if (windows) return windows;
  const parts = name.split('/').filter(Boolean);
  for (let n = Math.min(3, parts.length); n >= 2; n--) {
    const tail = parts.slice(-n).join('/');
    if (isZone(tail)) return tail;
  }
  return undefined;
}

/** Unfolds content lines (RFC 5545 §3.1) and drops blank ones. */
function unfold(text: string): string[] {
  return text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/).filter((l) => l.trim() !== '');
}

/**
 * In a VTIMEZONE rule, BYHOUR/BYMINUTE/BYSECOND (one value each) only restate the time of day of
 * the transition: they are moved into the rule's DTSTART, the form every reader understands.
 */
function repairZoneRule(block: Line[]): void {
  const rrule = block.find((l) => l.name === 'RRULE');
  const dtstart = block.find((l) => l.name === 'DTSTART');
  if (!rrule || !dtstart) return;
  // Windows zone rules say "5th Sunday" for "last Sunday" (TIME_ZONE_INFORMATION wDay=5).
  rrule.value = rrule.value.replace(/(^|;)(BYDAY=)\+?5(SU|MO|TU|WE|TH|FR|SA)(?=;|$)/i, '$1$2-1$3');
  const parts = rrule.value.split(';');
  const time: Record<string, number> = {};
  const kept: string[] = [];
  for (const part of parts) {
    const m = /^(BYHOUR|BYMINUTE|BYSECOND)=(\d{1,2})$/i.exec(part);
    if (m) time[(m[1] as string).toUpperCase()] = Number(m[2]);
    else if (/^(BYHOUR|BYMINUTE|BYSECOND)=/i.test(part)) return;
    else kept.push(part);
  }
  if (Object.keys(time).length === 0) return;
  const d = /^(\d{8})(?:T(\d{2})(\d{2})(\d{2}))?$/.exec(dtstart.value);
  if (!d) return;
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hh = time.BYHOUR ?? Number(d[2] ?? 0);
  const mm = time.BYMINUTE ?? Number(d[3] ?? 0);
  const ss = time.BYSECOND ?? Number(d[4] ?? 0);
  if (hh > 23 || mm > 59 || ss > 59) return;
  dtstart.value = `${d[1] as string}T${pad(hh)}${pad(mm)}${pad(ss)}`;
  rrule.value = kept.join(';');
}

/** Returns the object's text with the repairs above applied (CRLF line endings, unfolded lines). */
export function repairIcs(text: string): string {
  const lines = unfold(text);
  const parsed = lines.map(splitLine);
  // The VTIMEZONEs of this object, by cleaned TZID: such a name keeps its own rules.
  const own = new Set<string>();
  let depth: string[] = [];
  for (const l of parsed) {
    if (!l) continue;
    if (l.name === 'BEGIN') depth.push(l.value.trim().toUpperCase());
    else if (l.name === 'END') depth.pop();
    else if (l.name === 'TZID' && depth.at(-1) === 'VTIMEZONE') own.add(cleanTzid(l.value));
  }
  const rename = (raw: string): string => {
    const clean = cleanTzid(raw);
    if (own.has(clean)) return clean;
    return resolveTzid(clean) ?? clean;
  };

  const out: string[] = [];
  depth = [];
  let block: Line[] | null = null as Line[] | null;
  const flush = (items: Line[]): void => {
    for (const l of items) out.push(joinLine(l));
  };
  for (let i = 0; i < parsed.length; i++) {
    const l = parsed[i];
    if (!l) {
      out.push(lines[i] as string);
      continue;
    }
    if (l.name === 'BEGIN') {
      const what = l.value.trim().toUpperCase();
      depth.push(what);
      if ((what === 'STANDARD' || what === 'DAYLIGHT') && depth.at(-2) === 'VTIMEZONE') {
        block = [l];
        continue;
      }
    } else if (l.name === 'END') {
      const what = depth.pop();
      if (block && (what === 'STANDARD' || what === 'DAYLIGHT')) {
        block.push(l);
        repairZoneRule(block);
        flush(block);
        block = null;
        continue;
      }
    } else if (l.name === 'TZID' && depth.at(-1) === 'VTIMEZONE') {
      l.value = cleanTzid(l.value);
    } else {
      l.params = l.params.map((p) => (paramName(p) === 'TZID' ? `TZID=${quoted(rename(paramValue(p)))}` : p));
      // Some servers store such a value as VALUE=DATE-TIME, which an 8-digit value cannot be.
      const valueParam = l.params.find((p) => paramName(p) === 'VALUE');
      if (DATE_PROPS.has(l.name) && /^\d{8}(,\d{8})*$/.test(l.value.trim()) && (!valueParam || paramValue(valueParam).toUpperCase() === 'DATE-TIME')) {
        // A bare date is a DATE whatever the missing VALUE says; a zone means nothing on it.
        l.value = l.value.trim();
        l.params = [...l.params.filter((p) => paramName(p) !== 'TZID' && paramName(p) !== 'VALUE'), 'VALUE=DATE'];
      }
    }
    if (block) block.push(l);
    else out.push(joinLine(l));
  }
  if (block) flush(block);
  return out.join('\r\n') + '\r\n';
}

/** SUMMARY and UID of an object, read from its text (so even an object ical.js refuses is named). */
export function describeObject(text: string): { uid?: string; summary?: string } {
  const found: { uid?: string; summary?: string } = {};
  for (const raw of unfold(text)) {
    const l = splitLine(raw);
    if (!l) continue;
    const value = l.value.replace(/\\([,;\\])/g, '$1').replace(/\\[nN]/g, ' ').trim().slice(0, 200);
    if (l.name === 'UID' && found.uid === undefined && value !== '') found.uid = value;
    if (l.name === 'SUMMARY' && found.summary === undefined && value !== '') found.summary = value;
  }
  return found;
}
