import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addToCalendarLinks } from './booking.view.js';

test('add-to-calendar links: Google and Outlook templates with the time in UTC, the place, and nothing of the client', () => {
  const start = Date.UTC(2027, 2, 28, 7, 30); // 09:30 in Paris, the morning the clocks change
  const links = addToCalendarLinks({ title: 'Haircut — Alice Martin', start, end: start + 45 * 60_000, location: '3 rue des Lilas, Lyon' });
  const google = new URL(links.google);
  assert.equal(google.origin + google.pathname, 'https://calendar.google.com/calendar/render');
  assert.equal(google.searchParams.get('action'), 'TEMPLATE');
  assert.equal(google.searchParams.get('text'), 'Haircut — Alice Martin');
  assert.equal(google.searchParams.get('dates'), '20270328T073000Z/20270328T081500Z');
  assert.equal(google.searchParams.get('location'), '3 rue des Lilas, Lyon');
  const outlook = new URL(links.outlook);
  assert.equal(outlook.hostname, 'outlook.live.com');
  assert.equal(outlook.searchParams.get('subject'), 'Haircut — Alice Martin');
  assert.equal(outlook.searchParams.get('startdt'), '2027-03-28T07:30:00.000Z');
  assert.equal(outlook.searchParams.get('enddt'), '2027-03-28T08:15:00.000Z');
  for (const href of [links.google, links.outlook]) assert.doesNotMatch(href, /\/b\/|@|token/, 'no booking link, no e-mail address');
  // Without a place, no empty parameter.
  assert.equal(new URL(addToCalendarLinks({ title: 'Call', start, end: start + 60_000, location: '' }).google).searchParams.has('location'), false);
});
