import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLAIM_TTL_MS, dueReminders, formatMarker, markSent, normalizeLeads, parseMarker, scanRange, type ReminderMarker } from './reminders.js';

const MIN = 60_000;
const START = Date.UTC(2026, 11, 5, 9, 0);
const BOOKED = START - 3 * 1440 * MIN;

test('the marker reads back what was written, and refuses what we never write', () => {
  const m: ReminderMarker = { start: START, sent: [120, 1440], claim: { leads: [60], at: START - 61 * MIN } };
  const text = formatMarker(m);
  assert.equal(text, 'start=20261205T090000Z sent=1440.120 claim=60@20261205T075900Z');
  assert.doesNotMatch(text, /[;,\\\n]/, 'nothing iCalendar TEXT escapes');
  assert.deepEqual(parseMarker(text), { start: START, sent: [1440, 120], claim: { leads: [60], at: START - 61 * MIN } });
  assert.deepEqual(parseMarker(formatMarker({ start: START, sent: [] })), { start: START, sent: [] });
  for (const bad of [undefined, '', 'yes', 'start=2026 sent=', 'start=20261205T090000Z sent=1', 'start=20261205T090000Z sent=abc', 'start=20261205T090000Z sent= claim=60']) {
    assert.equal(parseMarker(bad), null, String(bad));
  }
});

test('a lead time is due from start − lead until the start, once', () => {
  const leads = [1440, 120];
  const subject = { start: START, created: BOOKED, marker: null };
  assert.deepEqual(dueReminders(subject, leads, START - 1440 * MIN - 1), { kind: 'none' }, 'not before its time');
  const first = dueReminders(subject, leads, START - 1440 * MIN);
  assert.equal(first.kind, 'send');
  if (first.kind !== 'send') return;
  assert.deepEqual(first.leads, [1440]);
  const sent = markSent(first.claim);
  assert.deepEqual(sent, { start: START, sent: [1440] });
  assert.deepEqual(dueReminders({ ...subject, marker: sent }, leads, START - 1000 * MIN), { kind: 'none' }, 'never twice');
  const second = dueReminders({ ...subject, marker: sent }, leads, START - 119 * MIN);
  assert.equal(second.kind === 'send' && second.leads.join(), '120');
  assert.deepEqual(dueReminders(subject, leads, START), { kind: 'none' }, 'nothing once it has started');
});

test('a booking made inside a lead time gets no reminder for it', () => {
  const created = START - 600 * MIN; // ten hours before: inside the day-before reminder, outside the 2-hour one
  assert.deepEqual(dueReminders({ start: START, created, marker: null }, [1440, 120], START - 599 * MIN), { kind: 'none' });
  const due = dueReminders({ start: START, created, marker: null }, [1440, 120], START - 120 * MIN);
  assert.equal(due.kind === 'send' && due.leads.join(), '120');
});

test('missed scans send one e-mail for every lead now due', () => {
  const due = dueReminders({ start: START, created: BOOKED, marker: null }, [1440, 120], START - 30 * MIN);
  assert.equal(due.kind === 'send' && due.leads.join(), '1440,120');
});

test('an event moved in the calendar is reminded again for its new time', () => {
  const sentForOld: ReminderMarker = { start: START, sent: [1440] };
  const moved = START + 2 * 1440 * MIN;
  assert.deepEqual(dueReminders({ start: moved, created: BOOKED, marker: sentForOld }, [1440], moved - 1441 * MIN), { kind: 'none' });
  const due = dueReminders({ start: moved, created: BOOKED, marker: sentForOld }, [1440], moved - 1440 * MIN);
  assert.equal(due.kind === 'send' && due.claim.start, moved);
});

test("another process's live claim holds; a dead one is taken over", () => {
  const claimAt = START - 1440 * MIN;
  const marker: ReminderMarker = { start: START, sent: [], claim: { leads: [1440], at: claimAt } };
  assert.deepEqual(dueReminders({ start: START, created: BOOKED, marker }, [1440], claimAt + CLAIM_TTL_MS - 1), { kind: 'none' });
  assert.equal(dueReminders({ start: START, created: BOOKED, marker }, [1440], claimAt + CLAIM_TTL_MS).kind, 'send');
});

test('lead times are cleaned and the scan reads up to the largest plus one interval', () => {
  assert.deepEqual(normalizeLeads([120, 1440, 120, 4, 20_161, 1.5, 60, 30]), [1440, 120, 60]);
  assert.equal(scanRange(0, [], 60_000), null, 'no reminders: the calendar is not read');
  assert.deepEqual(scanRange(1000, [120, 1440], 60_000), { start: 1000, end: 1000 + 1440 * MIN + 60_000 });
});
