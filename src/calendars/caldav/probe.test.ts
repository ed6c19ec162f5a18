// The connection check's reading of objects that do not even parse (the server is the test
// server of hostile.test.ts, in its own process; the busy worker pool is the real one).
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { sharedBusyPool } from '../busy-pool.js';
import type { Command } from './hostile-server.js';
import { probeCaldav } from './probe.js';

let child: ChildProcess;
let url = '';

async function set(c: Command): Promise<void> {
  await new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send(c);
  });
}

before(async () => {
  child = fork(fileURLToPath(new URL('./hostile-server.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', () => reject(new Error('the test server did not start')));
  });
  url = `http://127.0.0.1:${port}/`;
});
after(() => {
  child.disconnect();
});

const ics = (uid: string, summary: string, start: string): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, 'DURATION:PT1H', `SUMMARY:${summary}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

test('an object that does not parse (month 13) is named by its SUMMARY and UID; the others are not', async () => {
  await set({ mode: { kind: 'ics', texts: [ics('fine@x', 'Lunch', '20270110T120000Z'), ics('m13@x', 'Board <meeting> & co', '20271310T120000Z')] } });
  const findings = await probeCaldav({
    url,
    username: 'u',
    password: 'p',
    allowHosts: ['127.0.0.1'],
    bookingCalendar: `${url}cal/`,
    conflictCalendars: [],
    organizerEmail: 'a@example.org',
    timeZone: 'Europe/Paris',
    uidHost: 'creneau.test',
    write: false,
    engine: sharedBusyPool(),
    now: Date.parse('2027-01-01T00:00:00Z'),
  });
  const named = findings.filter((f) => f.key === 'object_unreadable');
  assert.deepEqual(named, [{ key: 'object_unreadable', level: 'error', params: { calendar: 'Cal', summary: 'Board <meeting> & co', uid: 'm13@x' } }]);
  assert.ok(!findings.some((f) => f.key === 'busy_ok'), 'the calendar is not reported readable');
  assert.ok(findings.some((f) => f.key === 'no_ctag' && f.level === 'warn'), 'this server has no CTag, and the check says so');
});
