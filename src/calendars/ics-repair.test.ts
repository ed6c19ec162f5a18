import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanTzid, describeObject, repairIcs, resolveTzid } from './ics-repair.js';
import { ianaOfWindowsZone } from './windows-zones.js';

const cal = (...lines: string[]): string => ['BEGIN:VCALENDAR', 'VERSION:2.0', ...lines, 'END:VCALENDAR', ''].join('\r\n');

test('a bare date without VALUE=DATE becomes a DATE (and loses a meaningless TZID)', () => {
  const out = repairIcs(cal('BEGIN:VEVENT', 'DTSTART:20261224', 'DTEND;TZID=Europe/Paris:20261225', 'EXDATE:20261231,20270107', 'END:VEVENT'));
  assert.match(out, /\r\nDTSTART;VALUE=DATE:20261224\r\n/);
  assert.match(out, /\r\nDTEND;VALUE=DATE:20261225\r\n/);
  assert.match(out, /\r\nEXDATE;VALUE=DATE:20261231,20270107\r\n/);
  assert.match(repairIcs(cal('DTSTART;VALUE=DATE-TIME:20261224')), /\r\nDTSTART;VALUE=DATE:20261224\r\n/);
  // A date-time and an explicit VALUE are left alone.
  const kept = repairIcs(cal('BEGIN:VEVENT', 'DTSTART;VALUE=DATE:20261224', 'DTEND:20261225T100000Z', 'END:VEVENT'));
  assert.match(kept, /\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND:20261225T100000Z\r\n/);
});

test('TZIDs: quotes and slashes cleaned, Windows and prefixed names mapped unless the object defines them', () => {
  assert.equal(cleanTzid(' "/Europe/Paris" '), 'Europe/Paris');
  assert.equal(resolveTzid('mozilla.org/20070129_1/Europe/Paris'), 'Europe/Paris');
  assert.equal(resolveTzid('Eastern Standard Time'), 'America/New_York');
  assert.equal(resolveTzid('Nowhere/Atlantis'), undefined);
  const out = repairIcs(cal(
    'BEGIN:VTIMEZONE', 'TZID:"Customized Time Zone"', 'END:VTIMEZONE',
    'BEGIN:VEVENT', 'DTSTART;TZID="/Europe/Paris":20260324T100000', 'DTEND;TZID=W. Europe Standard Time:20260324T110000',
    'RDATE;TZID=Customized Time Zone:20260325T100000', 'EXDATE;TZID=/mozilla.org/20070129_1/Europe/Paris:20260326T100000', 'END:VEVENT',
  ));
  assert.match(out, /\r\nTZID:Customized Time Zone\r\n/);
  assert.match(out, /\r\nDTSTART;TZID=Europe\/Paris:20260324T100000\r\n/);
  assert.match(out, /\r\nDTEND;TZID=Europe\/Berlin:20260324T110000\r\n/);
  assert.match(out, /\r\nRDATE;TZID=Customized Time Zone:20260325T100000\r\n/);
  assert.match(out, /\r\nEXDATE;TZID=Europe\/Paris:20260326T100000\r\n/);
  // A Windows name the object defines keeps its own VTIMEZONE.
  const own = repairIcs(cal('BEGIN:VTIMEZONE', 'TZID:Romance Standard Time', 'END:VTIMEZONE', 'BEGIN:VEVENT', 'DTSTART;TZID=Romance Standard Time:20260324T100000', 'END:VEVENT'));
  assert.match(own, /\r\nDTSTART;TZID=Romance Standard Time:20260324T100000\r\n/);
});

test('the CLDR table covers the usual Windows names, case-insensitively', () => {
  assert.equal(ianaOfWindowsZone('W. Europe Standard Time'), 'Europe/Berlin');
  assert.equal(ianaOfWindowsZone('romance standard time'), 'Europe/Paris');
  assert.equal(ianaOfWindowsZone('AUS Eastern Standard Time'), 'Australia/Sydney');
  assert.equal(ianaOfWindowsZone('UTC+12'), 'Etc/GMT-12');
  assert.equal(ianaOfWindowsZone('Atlantis Standard Time'), undefined);
});

test('VTIMEZONE rules: BYHOUR/BYMINUTE move into DTSTART, Windows 5th weekday becomes last', () => {
  const out = repairIcs(cal(
    'BEGIN:VTIMEZONE', 'TZID:X',
    'BEGIN:STANDARD', 'DTSTART:16010101T000000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYDAY=5SU;BYMONTH=10;BYHOUR=3;BYMINUTE=0', 'END:STANDARD',
    'BEGIN:DAYLIGHT', 'DTSTART:16010101T000000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3;BYHOUR=2,3', 'END:DAYLIGHT',
    'END:VTIMEZONE',
  ));
  assert.match(out, /BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:\+0200\r\nTZOFFSETTO:\+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n/);
  // Several hours cannot be one DTSTART: left as written (busy.ts then decides).
  assert.match(out, /BEGIN:DAYLIGHT\r\nDTSTART:16010101T000000\r\n.*\r\n.*\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3;BYHOUR=2,3\r\n/);
});

test('describeObject names an object from its text, folded and escaped', () => {
  assert.deepEqual(describeObject('BEGIN:VEVENT\r\nUID:abc\r\n -123\r\nSUMMARY:Lunch\\, with Ann\r\nEND:VEVENT\r\n'), { uid: 'abc-123', summary: 'Lunch, with Ann' });
  assert.deepEqual(describeObject('garbage'), {});
});
