import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { client, iso, openForm, openRules, postForm, soon, startWorld, STAFF_ZONE, type World } from '../../scripts/test-support/world.js';

/** The calendar objects in the Radicale booking calendar (name → ICS). */
async function radicaleEvents(w: World): Promise<Map<string, string>> {
  const auth = `Basic ${Buffer.from(`${w.radicale?.username}:${w.radicale?.password}`).toString('base64')}`;
  const res = await fetch(w.calendarUrl as string, {
    method: 'PROPFIND',
    headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' },
    body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
  });
  const xml = await res.text();
  const hrefs = [...xml.matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => m[1] as string);
  const out = new Map<string, string>();
  for (const href of hrefs) {
    const r = await fetch(new URL(href, w.calendarUrl as string), { headers: { authorization: auth } });
    out.set(href.split('/').pop() as string, await r.text());
  }
  return out;
}

function vevents(ics: string): ICAL.Component[] {
  return new ICAL.Component(ICAL.parse(ics)).getAllSubcomponents('vevent');
}

async function book(w: World, service: string, start: number, who: Record<string, string>, headers: Record<string, string> = {}) {
  const form = await openForm(w, service, start);
  return postForm(`${w.url}/@alice/${service}/book`, { ...form, ...who }, headers);
}

async function slotsOn(w: World, service: string, day: number): Promise<string[]> {
  const date = iso(day).slice(0, 10);
  const res = await fetch(`${w.url}/@alice/${service}/slots?from=${date}&to=${date}&tz=${STAFF_ZONE}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { slots: string[] }).slots;
}

describe('booking against a real Radicale and SMTP sink', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ env: { CRENEAU_TRUST_PROXY: 'on' } });
  });
  after(() => w.stop());

  test('book → event with attendee and links in the calendar, iMIP REQUEST sent, confirmation page', async () => {
    const start = soon('10:00');
    assert.ok((await slotsOn(w, 'haircut', start)).includes(iso(start)), 'slot offered before');
    const res = await book(w, 'haircut', start, client('a', { first_name: 'Jeanne', last_name: 'Dupont', email: 'jeanne@example.com' }));
    assert.equal(res.status, 303);
    const location = res.headers.get('location') ?? '';
    const token = /^\/b\/([0-9a-v]{26}\.[0-9a-v]{32})\?/.exec(location)?.[1];
    assert.ok(token, location);
    assert.equal(res.headers.get('set-cookie'), null, 'no cookie for a client');
    const id = token.slice(0, 26);

    const events = await radicaleEvents(w);
    const ics = events.get(`${id}.ics`);
    assert.ok(ics, 'the event is in the calendar under our id');
    const [ev] = vevents(ics);
    assert.ok(ev);
    assert.equal(ev.getFirstPropertyValue('uid'), `${id}@127.0.0.1`);
    assert.equal(String(ev.getFirstPropertyValue('summary')), 'Haircut — Jeanne Dupont');
    assert.match(String(ev.getFirstPropertyValue('attendee')), /mailto:jeanne@example\.com/i);
    assert.match(String(ev.getFirstPropertyValue('organizer')), /mailto:alice@salon\.test/i);
    const description = String(ev.getFirstPropertyValue('description'));
    assert.ok(description.includes(`${w.url}/b/${token}`), 'cancel link in the description');
    assert.ok(description.includes(`${w.url}/b/${token}/reschedule`), 'reschedule link in the description');
    const dtstart = ev.getFirstPropertyValue('dtstart') as ICAL.Time;
    assert.equal(dtstart.toJSDate().getTime(), start);

    const mails = await w.smtp.waitFor(1);
    const mail = mails.find((m) => m.to === 'jeanne@example.com');
    assert.ok(mail, 'invitation e-mailed to the client');
    assert.equal(mail.method, 'REQUEST');
    assert.equal(vevents(mail.ics as string).length, 1, 'exactly one VEVENT in the iMIP ICS');

    const page = await fetch(`${w.url}${location}`);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /Your booking is confirmed/);
    assert.ok(html.includes(`/b/${token}/reschedule`));
    assert.ok(html.includes(`/b/${token}?action=cancel`));
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('set-cookie'), null);

    const dl = await fetch(`${w.url}/b/${token}/ics`);
    assert.match(dl.headers.get('content-type') ?? '', /^text\/calendar/);
    assert.equal(vevents(await dl.text()).length, 1);

    assert.ok(!(await slotsOn(w, 'haircut', start)).includes(iso(start)), 'slot no longer offered');
  });

  test('a double submit of the same form creates one event and shows the same confirmation', async () => {
    const start = soon('11:00');
    const form = await openForm(w, 'haircut', start);
    const who = client('double');
    const [a, b] = await Promise.all([postForm(`${w.url}/@alice/haircut/book`, { ...form, ...who }), postForm(`${w.url}/@alice/haircut/book`, { ...form, ...who })]);
    assert.equal(a.status, 303);
    assert.equal(b.status, 303);
    assert.equal(a.headers.get('location'), b.headers.get('location'));
    const again = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...who });
    assert.equal(again.headers.get('location'), a.headers.get('location'));
    const id = (a.headers.get('location') ?? '').slice(3, 29);
    const matching = [...(await radicaleEvents(w)).values()].filter((ics) => ics.includes('client-double@example.com') || ics.includes('clientdouble@example.com'));
    assert.equal(matching.length, 1);
    assert.ok((await radicaleEvents(w)).has(`${id}.ics`));
  });

  test('link scanners that prefetch GET links never cancel; POST cancels, sends CANCEL, and is idempotent; the used form never books it again', async () => {
    const start = soon('12:00');
    const form = await openForm(w, 'haircut', start);
    const res = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('cancel') });
    const location = res.headers.get('location') ?? '';
    const token = location.slice(3).split('?')[0] as string;
    const id = token.slice(0, 26);
    for (const path of [`/b/${token}`, `/b/${token}?action=cancel`, `/b/${token}/reschedule`, `/b/${token}/ics`]) {
      const r = await fetch(`${w.url}${path}`);
      assert.equal(r.status, 200, path);
    }
    assert.ok((await radicaleEvents(w)).has(`${id}.ics`), 'still booked after every GET');
    const before = w.smtp.mails.length;
    // A message for the staff member: refused with control characters (nothing cancelled), then sent.
    const bad = await postForm(`${w.url}/b/${token}/cancel`, { message: 'Sorry\u0007' });
    assert.equal(bad.status, 422);
    assert.match(await bad.text(), /The message is too long, or holds characters that cannot be sent/);
    assert.equal(vevents((await radicaleEvents(w)).get(`${id}.ics`) ?? '')[0]?.getFirstPropertyValue('status'), 'CONFIRMED', 'not cancelled');
    const cancel = await postForm(`${w.url}/b/${token}/cancel`, { message: 'Sorry, my train is cancelled.\nNext week?' });
    assert.equal(cancel.status, 303);
    // The event stays as a tombstone: cancelled, transparent, without the recap (answers, links).
    const [tomb] = vevents((await radicaleEvents(w)).get(`${id}.ics`) ?? '');
    assert.equal(tomb?.getFirstPropertyValue('status'), 'CANCELLED');
    assert.equal(tomb?.getFirstPropertyValue('transp'), 'TRANSPARENT');
    assert.equal(tomb?.getFirstPropertyValue('description'), 'Cancelled by the client, who left this message:\nSorry, my train is cancelled.\nNext week?', 'the recap is gone; only the message is left');
    assert.equal(Number(tomb?.getFirstPropertyValue('sequence')), 1);
    const mails = await w.smtp.waitFor(before + 1);
    const toStaff = (await w.smtp.waitFor(before + 2)).slice(before).find((m) => m.to === 'alice@salon.test');
    assert.ok(toStaff, 'the staff member is told');
    assert.match(toStaff.subject, /^Cancelled: Haircut/);
    assert.ok(toStaff.text.includes('Their message:\nSorry, my train is cancelled.\nNext week?'), toStaff.text);
    const c = mails.slice(before).find((m) => m.method === 'CANCEL');
    assert.ok(c, 'CANCEL sent');
    assert.equal(c.to, 'clientcancel@example.com');
    assert.match(c.text, /Your appointment “Haircut — Client/);
    assert.ok(c.text.includes(`To book again: ${w.url}/@alice`), c.text);
    const cancelledPage = await fetch(`${w.url}${cancel.headers.get('location')}`);
    const cancelledHtml = await cancelledPage.text();
    assert.match(cancelledHtml, /Your booking is cancelled/);
    assert.match(cancelledHtml, /href="\/@alice">Book again with Alice Martin</, 'offers to book again with the same person');
    const twice = await postForm(`${w.url}/b/${token}/cancel`, {});
    assert.equal(twice.status, 303, 'cancelling again is not an error');
    const gone = await fetch(`${w.url}/b/${token}`);
    assert.equal(gone.status, 404);
    assert.match(await gone.text(), /no longer exists/);
    assert.ok((await slotsOn(w, 'haircut', start)).includes(iso(start)), 'the slot is free again');

    // Re-posting the used form (back button, a replayed request) does not bring the booking back.
    const mailsBefore = w.smtp.mails.length;
    const again = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('cancel') });
    assert.equal(again.status, 410);
    const againHtml = await again.text();
    assert.match(againHtml, /This booking was cancelled/);
    assert.match(againHtml, /href="\/@alice">Book again with Alice Martin</);
    assert.equal(vevents((await radicaleEvents(w)).get(`${id}.ics`) ?? '')[0]?.getFirstPropertyValue('status'), 'CANCELLED', 'still cancelled');
    assert.equal((await fetch(`${w.url}/b/${token}`)).status, 404, 'the old link stays dead');
    assert.ok((await slotsOn(w, 'haircut', start)).includes(iso(start)), 'and the slot stays free');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(w.smtp.mails.length, mailsBefore, 'no invitation sent');
  });

  test('reschedule moves the event atomically; the old slot is free, the new one taken', async () => {
    const start = soon('13:00');
    const res = await book(w, 'haircut', start, client('move'));
    const token = (res.headers.get('location') ?? '').slice(3).split('?')[0] as string;
    const id = token.slice(0, 26);
    const to = soon('15:30');
    const picker = await fetch(`${w.url}/b/${token}/reschedule?date=${iso(to).slice(0, 10)}&tz=${STAFF_ZONE}`);
    const pickerHtml = await picker.text();
    assert.ok(pickerHtml.includes(`value="${iso(to)}"`), 'the new time is offered');
    const before = w.smtp.mails.length;
    const [old] = vevents((await radicaleEvents(w)).get(`${id}.ics`) as string);
    const moved = await postForm(`${w.url}/b/${token}/reschedule`, { start: iso(to), tz: STAFF_ZONE });
    assert.equal(moved.status, 303);
    // The page after the move shows the former time struck through, and add-to-calendar links.
    const after = await (await fetch(`${w.url}${moved.headers.get('location')}`)).text();
    assert.match(after, /<del><span class="visually-hidden">Previously: <\/span>[^<]*(1:00 PM|13:00)<\/del>/);
    assert.match(after, /href="https:\/\/calendar\.google\.com\/calendar\/render\?action=TEMPLATE[^"]*" rel="noopener noreferrer external"/);
    const ics = (await radicaleEvents(w)).get(`${id}.ics`) as string;
    const [ev] = vevents(ics);
    // The recap's date line moved with the event; nothing else in it changed.
    const oldLines = String(old?.getFirstPropertyValue('description')).split('\n');
    const newLines = String(ev?.getFirstPropertyValue('description')).split('\n');
    const changed = newLines.map((line, i) => [oldLines[i], line]).filter(([a, b]) => a !== b);
    assert.equal(oldLines.length, newLines.length);
    assert.equal(changed.length, 1, JSON.stringify(changed));
    assert.match(changed[0]?.[0] ?? '', /1:00 PM|13:00/);
    assert.match(changed[0]?.[1] ?? '', /3:30 PM|15:30/);
    assert.equal((ev?.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().getTime(), to);
    assert.equal(Number(ev?.getFirstPropertyValue('sequence')), 1);
    const slots = await slotsOn(w, 'haircut', start);
    assert.ok(slots.includes(iso(start)), 'old slot free');
    // …and bookable at once by someone else (this process no longer counts it as just taken).
    assert.equal((await book(w, 'haircut', start, client('after-move'))).status, 303, 'the freed time can be booked right away');
    assert.ok(!slots.includes(iso(to)), 'new slot taken');
    const mails = await w.smtp.waitFor(before + 1);
    const mail = mails.slice(before).find((m) => m.to === 'clientmove@example.com');
    assert.equal(mail?.method, 'REQUEST');
    assert.match(mail.text, /3:30 PM|15:30/, 'the e-mail tells the new time');
    assert.ok(mail.text.includes(`/b/${token}?tz=${encodeURIComponent(STAFF_ZONE)}`), 'with the manage link in the client zone');
    assert.match(mail.ics ?? '', /SEQUENCE:1/);
  });

  test('moving a booking never lands on another event that overlaps the booking itself', async () => {
    await w.addService('fine', openRules({ durationMinutes: 30, stepMinutes: 10 }), { title: 'Fine' });
    const start = soon('10:00', 9);
    const res = await book(w, 'fine', start, client('fine'));
    assert.equal(res.status, 303);
    const token = (res.headers.get('location') ?? '').slice(3).split('?')[0] as string;
    // The staff member then adds an event by hand that overlaps the booking: 10:15–11:00.
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
    const manual = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:manual-overlap@test', `DTSTAMP:${stamp(Date.now())}`, `DTSTART:${stamp(soon('10:15', 9))}`, `DTEND:${stamp(soon('11:00', 9))}`, 'SUMMARY:Supplier visit', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    assert.equal(await w.radicale?.put(w.calendarUrl as string, 'manual-overlap.ics', manual), 201);
    // 09:50–10:20 would overlap the hand-made event (10:15–10:20), though only the booking covers 10:00–10:15.
    const overlapping = await postForm(`${w.url}/b/${token}/reschedule`, { start: iso(soon('09:50', 9)), tz: STAFF_ZONE });
    assert.equal(overlapping.status, 409);
    // 09:30–10:00 collides with nothing but the booking's own old time: allowed.
    const fine = await postForm(`${w.url}/b/${token}/reschedule`, { start: iso(soon('09:30', 9)), tz: STAFF_ZONE });
    assert.equal(fine.status, 303);
  });

  test('50 concurrent bookings of one slot: exactly one 303, 49 × 409, one event — 20 times', async () => {
    for (let round = 0; round < 20; round++) {
      const start = soon('09:00', 3 + Math.floor(round / 8)) + (round % 8) * 3600_000;
      const forms = await Promise.all(Array.from({ length: 50 }, () => openForm(w, 'haircut', start)));
      const results = await Promise.all(
        forms.map((form, i) => postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client(`r${round}x${i}`) }, { 'x-forwarded-for': `198.51.100.${i + 1}` })),
      );
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 303).length, 1, `round ${round}: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 49, `round ${round}`);
      const html = await results.find((r) => r.status === 409)?.text();
      assert.match(html ?? '', /someone just booked this time/);
    }
    const events = [...(await radicaleEvents(w)).values()].filter((ics) => /client-?r\d+x\d+@/.test(ics) || /clientr\d+x\d+@/.test(ics));
    assert.equal(events.length, 20, 'one event per round');
  });

  test('overlapping services race: 30 min at 10:00 vs 60 min at 09:30 — only one wins', async () => {
    await w.addService('long', openRules({ durationMinutes: 60 }), { title: 'Long' });
    for (let round = 0; round < 5; round++) {
      const day = 10 + round;
      const short = soon('10:00', day);
      const long = soon('09:30', day);
      const shortForms = await Promise.all(Array.from({ length: 25 }, () => openForm(w, 'haircut', short)));
      const longForms = await Promise.all(Array.from({ length: 25 }, () => openForm(w, 'long', long)));
      const results = await Promise.all([
        ...shortForms.map((f, i) => postForm(`${w.url}/@alice/haircut/book`, { ...f, ...client(`o${round}s${i}`) }, { 'x-forwarded-for': `192.0.2.${i + 1}` })),
        ...longForms.map((f, i) => postForm(`${w.url}/@alice/long/book`, { ...f, ...client(`o${round}l${i}`) }, { 'x-forwarded-for': `192.0.2.${i + 101}` })),
      ]);
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 303).length, 1, `round ${round}: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 49, `round ${round}: ${statuses.join(",")}`);
    }
  });

  test('bad input: off-grid, past, outside hours, beyond horizon, malformed start → nothing booked', async () => {
    const form = await openForm(w, 'haircut', soon('14:00'));
    const count = (await radicaleEvents(w)).size;
    const cases: [string, number][] = [
      [iso(soon('14:10')), 409], // off the grid
      [iso(soon('14:00', -3)), 409], // in the past
      [iso(soon('20:00')), 409], // outside hours
      [iso(soon('10:00', 90)), 409], // beyond the horizon
      ['2026-13-45T99:00:00+01:00', 400],
      ['tomorrow', 400],
    ];
    for (const [start, status] of cases) {
      const r = await postForm(`${w.url}/@alice/haircut/book`, { ...form, start, ...client('bad') });
      assert.equal(r.status, status, start);
    }
    const noToken = await postForm(`${w.url}/@alice/haircut/book`, { start: form.start as string, tz: STAFF_ZONE, ...client('bad') });
    assert.equal(noToken.status, 400);
    const honeypot = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('bad'), website: 'http://spam.example' });
    assert.equal(honeypot.status, 400);
    assert.equal((await radicaleEvents(w)).size, count, 'nothing was written');
  });

  test('invalid fields → 422 with the form, messages and the values; CR/LF never passes', async () => {
    const form = await openForm(w, 'haircut', soon('14:30'));
    const r = await postForm(`${w.url}/@alice/haircut/book`, { ...form, first_name: '', last_name: 'X', email: 'not-an-email', phone: '12', note: 'n' });
    assert.equal(r.status, 422);
    const html = await r.text();
    assert.match(html, /this field is required/);
    assert.match(html, /enter an e-mail address/);
    assert.match(html, /at least 6 digits/);
    assert.match(html, /value="not-an-email"/);
    const crlf = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('crlf', { last_name: 'Doe\r\nBcc: victim@example.com', email: 'a@example.com\r\nBcc: x@example.com' }) });
    assert.equal(crlf.status, 422);
    const ics = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('ics', { first_name: 'Eve\r\nATTENDEE:mailto:boss@example.com' }) });
    assert.equal(ics.status, 422);
  });

  test('XSS and ICS-injection payloads are escaped on every page and inert in the calendar and e-mail', async () => {
    const start = soon('15:00', 8);
    const payload = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>;X-INJ:1,\\';
    const res = await book(w, 'haircut', start, client('xss', { first_name: payload, last_name: payload, note: `${payload}\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:evil` }));
    assert.equal(res.status, 303);
    const location = res.headers.get('location') ?? '';
    const token = location.slice(3).split('?')[0] as string;
    for (const path of [location, `/b/${token}?action=cancel`, `/b/${token}/reschedule`]) {
      const html = await (await fetch(`${w.url}${path}`)).text();
      assert.ok(!html.includes('<script>alert'), path);
      assert.ok(!html.includes('<img src=x'), path);
    }
    const manage = await (await fetch(`${w.url}${location}`)).text();
    assert.ok(manage.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the name is shown, escaped');
    const ics = (await radicaleEvents(w)).get(`${token.slice(0, 26)}.ics`) as string;
    const evs = vevents(ics);
    assert.equal(evs.length, 1, 'exactly one VEVENT');
    const ev = evs[0] as ICAL.Component;
    assert.equal(ev.getAllProperties('x-inj').length, 0, 'no injected property');
    assert.equal(ev.getAllProperties('attendee').length, 1);
    assert.ok(String(ev.getFirstPropertyValue('description')).includes('END:VEVENT\nBEGIN:VEVENT'), 'kept as text');
    const mail = (await w.smtp.waitFor(1)).find((m) => m.to === 'clientxss@example.com');
    assert.ok(mail);
    assert.equal(vevents(mail.ics as string).length, 1);
    assert.doesNotMatch(mail.raw, /^X-INJ/m);
  });

  test('tokens: forged, tampered and unknown get the same 404; manage pages are not cached', async () => {
    const res = await book(w, 'haircut', soon('16:00', 8), client('tok'));
    const token = (res.headers.get('location') ?? '').slice(3).split('?')[0] as string;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
    const bodies = new Set<string>();
    for (const t of [flip(token, 5), flip(token, 40), `${'0'.repeat(26)}.${'0'.repeat(32)}`, 'garbage', `${token}x`]) {
      const r = await fetch(`${w.url}/b/${t}`);
      assert.equal(r.status, 404, t);
      bodies.add((await r.text()).replace(/\/b\/[^"<]*/g, ''));
      const c = await postForm(`${w.url}/b/${t}/cancel`, {});
      assert.ok([303, 404].includes(c.status));
    }
    assert.equal(bodies.size, 1, 'indistinguishable answers');
    const ok = await fetch(`${w.url}/b/${token}`);
    assert.equal(ok.status, 200, 'the real booking is untouched');
  });

  test('slots JSON: format, bounds and errors', async () => {
    const day = soon('09:00', 5);
    const date = iso(day).slice(0, 10);
    const r = await fetch(`${w.url}/@alice/haircut/slots?from=${date}&to=${date}&tz=America/New_York`);
    const json = (await r.json()) as { service: string; timeZone: string; durationMinutes: number; slots: string[] };
    assert.equal(json.service, 'haircut');
    assert.equal(json.timeZone, 'America/New_York');
    assert.equal(json.durationMinutes, 30);
    assert.ok(json.slots.length > 0);
    for (const s of json.slots) assert.match(s, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[45]:00$/);
    assert.equal(r.headers.get('set-cookie'), null);
    for (const q of ['from=2026-02-30&to=2026-03-01', 'from=x&to=y', `from=${date}&to=${date}&tz=Mars/Olympus`, 'from=2026-01-01&to=2026-06-01', `from=${date}&to=2020-01-01`]) {
      const bad = await fetch(`${w.url}/@alice/haircut/slots?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(typeof ((await bad.json()) as { error: unknown }).error, 'string');
    }
    assert.equal((await fetch(`${w.url}/@nobody/haircut/slots`)).status, 404);
  });

  test('public pages: no cookie, the staff zone without JS, unknown people get the generic 404', async () => {
    const staff = await fetch(`${w.url}/@alice`);
    assert.equal(staff.status, 200);
    assert.equal(staff.headers.get('set-cookie'), null);
    assert.match(await staff.text(), /Haircut/);
    const picker = await fetch(`${w.url}/@alice/haircut`);
    const html = await picker.text();
    assert.match(html, /Times in Europe\/Paris/);
    // Without JavaScript the list holds the staff zone, and the whole list is one link away.
    const zoneOptions = (page: string) => [.../<select id="tz"[^>]*>([\s\S]*?)<\/select>/.exec(page)?.[1]?.matchAll(/<option/g) ?? []].length;
    assert.equal(zoneOptions(html), 1);
    const more = /href="([^"]+)" data-tz-more/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(more, 'a link to the whole zone list');
    const all = await (await fetch(`${w.url}${more}`)).text();
    assert.ok(zoneOptions(all) > 300, 'every zone on request');
    assert.match(all, /<option value="Europe\/Paris" selected>Paris — [^<]+ \(Europe\/Paris\)<\/option>/);
    assert.doesNotMatch(all, /data-tz-more/);
    const unknown = await fetch(`${w.url}/@nobody`);
    const random = await fetch(`${w.url}/some/unknown/page`);
    assert.equal(unknown.status, 404);
    const strip = (html: string) => html.replace(/name="back" value="[^"]*"/, '');
    assert.equal(strip(await unknown.text()), strip(await random.text()));
  });

  test('the picker shows a month: days with free time are links carrying date=, the others are not; ?month= moves within today … the horizon', async () => {
    const today = DateTime.now().setZone(STAFF_ZONE);
    const lastDay = today.plus({ days: 30 }).toISODate() as string; // the service's horizon
    /** The month page: its caption, the dates linked, the day numbers shown, and the month links. */
    const monthPage = async (query: string) => {
      const html = await (await fetch(`${w.url}/@alice/haircut?tz=${encodeURIComponent(STAFF_ZONE)}${query}`)).text();
      const table = /<table>([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
      return {
        html,
        caption: /<caption><h3 id="month-title">([^<]+)<\/h3>/.exec(table)?.[1] ?? '',
        linked: [...table.matchAll(/<a href="[^"]*[?;]date=(\d{4}-\d{2}-\d{2})"/g)].map((m) => m[1] as string),
        shown: [...table.matchAll(/<td>(?:<a [^>]*>|<span[^>]*>)(\d+)/g)].map((m) => Number(m[1])),
        nav: [...html.matchAll(/href="[^"]*[?;]month=(\d{4}-\d{2})" aria-label="(Previous|Next) month/g)].map((m) => `${m[2]}:${m[1]}`),
      };
    };
    const next = today.plus({ months: 1 }).startOf('month');
    const page = await monthPage(`&month=${next.toFormat('yyyy-MM')}`);
    assert.equal(page.caption, next.toFormat('LLLL yyyy', { locale: 'en' }));
    assert.deepEqual(page.shown, Array.from({ length: next.daysInMonth ?? 0 }, (_, i) => i + 1), 'every day of the month, in order');
    // Every day up to the horizon has free hours (09:00–17:00 every day); none after it.
    const expected = Array.from({ length: next.daysInMonth ?? 0 }, (_, i) => next.plus({ days: i }).toISODate() as string).filter((d) => d <= lastDay);
    assert.deepEqual(page.linked.filter((d) => d > lastDay), [], 'no day beyond the horizon is a link');
    assert.ok(page.linked.every((d) => d.startsWith(next.toFormat('yyyy-MM'))), 'only days of the month shown');
    assert.ok(expected.length - page.linked.length <= 1, `the days before the horizon are links (${page.linked.length} of ${expected.length})`);
    assert.ok(page.nav.includes(`Previous:${today.toFormat('yyyy-MM')}`), page.nav.join());
    // This month: the days before today are never links; the first free day is selected.
    const now = await monthPage(`&month=${today.toFormat('yyyy-MM')}`);
    assert.ok(now.linked.every((d) => d >= (today.toISODate() as string)), 'no past day is a link');
    assert.match(now.html, /aria-current=date/);
    // A chosen day is selected and its times are shown.
    const chosen = page.linked[3] ?? page.linked[0] ?? '';
    const day = await monthPage(`&month=${next.toFormat('yyyy-MM')}&date=${chosen}`);
    assert.match(day.html, new RegExp(`date=${chosen}" aria-current=date`));
    assert.match(day.html, new RegExp(`start=${encodeURIComponent(chosen)}T09%3A00`), 'its first time is offered');
    // Months outside today … the horizon are brought back inside.
    assert.equal((await monthPage('&month=2020-01')).caption, today.toFormat('LLLL yyyy', { locale: 'en' }));
    const far = DateTime.fromISO(lastDay, { zone: STAFF_ZONE });
    assert.equal((await monthPage(`&month=${far.plus({ months: 3 }).toFormat('yyyy-MM')}`)).caption, far.toFormat('LLLL yyyy', { locale: 'en' }));
  });

  test('zones are named as people know them, with their time now; a 12/24-hour choice is kept in every picker link', async () => {
    const date = iso(soon('09:00', 17)).slice(0, 10); // a day no other test books
    const page = async (q: string) => (await fetch(`${w.url}/@alice/haircut?tz=America%2FNew_York&date=${date}${q}`)).text();
    const nowIn = (tz: string, hourCycle: 'h12' | 'h23') => new Intl.DateTimeFormat('en', { hour: 'numeric', minute: '2-digit', timeZone: tz, hourCycle }).format(Date.now());
    const h24 = await page('&hc=24');
    // The option names the city and its time now (a minute may pass between the page and this check).
    const option = /<option value="America\/New_York" selected>New York — ([^ ]+) \(America\/New York\)<\/option>/.exec(h24)?.[1];
    assert.ok(option, 'a friendly name for the shown zone');
    assert.match(option, /^\d{2}:\d{2}$/, 'on the chosen 24-hour clock');
    assert.ok(Math.abs(Number(option.slice(0, 2)) * 60 + Number(option.slice(3)) - (Number(nowIn('America/New_York', 'h23').slice(0, 2)) * 60 + Number(nowIn('America/New_York', 'h23').slice(3)))) % 1439 <= 1, `${option}: New York's time now`);
    assert.match(h24, /<option value="Europe\/Paris">Paris — \d{2}:\d{2} \(Europe\/Paris\)<\/option>/, "the staff member's zone too");
    const times24 = [...h24.matchAll(/<ul class="slots"[\s\S]*?<\/ul>/g)].join('');
    assert.match(times24, />03:00</, '09:00 in Paris is 03:00 in New York, on a 24-hour clock');
    assert.doesNotMatch(times24, /AM|PM/);
    const links = [...h24.matchAll(/href="(\/@alice\/haircut\?[^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(links.length > 5);
    assert.ok(links.every((l) => l.includes('hc=')), 'every picker link keeps the clock');
    assert.match(h24, /aria-current=true>24-hour</);
    // The choice goes on with the client: the form, the booking's page and its links.
    const timeLink = links.find((l) => l.includes('T10%3A00'))?.replaceAll('&amp;', '&') ?? ''; // 16:00 in Paris
    const formPage = await (await fetch(`${w.url}${timeLink}`)).text();
    assert.match(formPage, /, 10:00</, 'the form says 10:00');
    assert.match(formPage, /<input type="hidden" name="hc" value="24">/);
    const hidden = Object.fromEntries([...formPage.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
    const booked = await postForm(`${w.url}/@alice/haircut/book`, { ...hidden, ...client('clock') } as Record<string, string>);
    assert.equal(booked.status, 303);
    assert.match(booked.headers.get('location') ?? '', /[?&]hc=24(&|$)/);
    const manage = await (await fetch(`${w.url}${booked.headers.get('location')}`)).text();
    assert.match(manage, /10:00 – 10:30/);
    assert.match(manage, /\/reschedule\?tz=America%2FNew_York&amp;hc=24"/);
    const h12 = await page('&hc=12');
    assert.match(h12, />3:00 AM</);
    // Without a choice, the language's habit: English here.
    assert.match(await page(''), />3:00 AM</);
    const fr = await (await fetch(`${w.url}/@alice/haircut?tz=America%2FNew_York&date=${date}`, { headers: { 'accept-language': 'fr' } })).text();
    assert.match(fr, />0?3:00</, 'French: a 24-hour clock');
    assert.doesNotMatch(fr, />\d+:\d+ [AP]M</);
  });

  test('the picker page with all its assets stays under 50 KB, all from this origin', async () => {
    const res = await fetch(`${w.url}/@alice/haircut?tz=America%2FNew_York`);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map((m) => (m[1] as string).replaceAll('&amp;', '&'));
    assert.ok(assets.some((a) => a.includes('.css')) && assets.some((a) => a.includes('.js')), assets.join());
    assert.doesNotMatch(html, /(?:href|src)="(?:https?:)?\/\//, 'nothing from another origin');
    let total = Buffer.byteLength(html);
    for (const a of assets) total += (await (await fetch(`${w.url}${a}`)).arrayBuffer()).byteLength;
    assert.ok(total < 50 * 1024, `${total} bytes`);
  });

  test('a burst of visitors shares one rendering, never after a booking or an edit, never with a cookie', async () => {
    const start = soon('11:00', 12);
    const page = `${w.url}/@alice/haircut?tz=${encodeURIComponent(STAFF_ZONE)}&date=${iso(start).slice(0, 10)}`;
    const link = `start=${encodeURIComponent(iso(start))}"`;
    const get = async (headers: Record<string, string> = {}) => {
      const before = w.pageCache.hits;
      const res = await fetch(page, { headers });
      return { res, text: await res.text(), replayed: w.pageCache.hits - before };
    };
    const first = await get();
    assert.equal(first.replayed, 0);
    assert.ok(first.text.includes(link), `${iso(start)} offered`);
    const second = await get();
    assert.equal(second.replayed, 1, 'the next visitor gets the same rendering');
    assert.equal(second.text, first.text);
    const headers = (r: Response) => [...r.headers].filter(([k]) => k !== 'date');
    assert.deepEqual(headers(second.res), headers(first.res), 'with the same headers (CSP, no-store, no cookie)');
    assert.equal(second.res.headers.get('set-cookie'), null);

    const french = await get({ 'accept-language': 'fr-FR,fr;q=0.9' });
    assert.equal(french.replayed, 0, 'each language renders its own');
    assert.match(french.text, /Choisissez un jour/);
    assert.equal((await get({ 'accept-language': 'fr' })).replayed, 1);
    assert.equal((await get({ cookie: 'creneau_session=x' })).replayed, 0, 'a request with a cookie is never answered from the cache');

    // A booking shows at once: its slot is gone from the very next page.
    const res = await book(w, 'haircut', start, client('burst'));
    assert.equal(res.status, 303);
    const after = await get();
    assert.equal(after.replayed, 0);
    assert.ok(!after.text.includes(link), 'the booked slot is no longer offered');

    // So does an edit in the database (here: the service's title).
    assert.equal((await get()).replayed, 1);
    await w.deps.db.updateTable('services').set({ title: 'Haircut & beard' }).where('slug', '=', 'haircut').execute();
    const edited = await get();
    assert.equal(edited.replayed, 0);
    assert.match(edited.text, /Haircut &amp; beard/);
    await w.deps.db.updateTable('services').set({ title: 'Haircut' }).where('slug', '=', 'haircut').execute();

    // And nothing is replayed for longer than a second.
    assert.equal((await get()).replayed, 0);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await get()).replayed, 0, 'expired after a second');
  });

  test('invalid posts cost little: a wide bucket per address, then 429 with when to retry; other addresses unaffected', async () => {
    const from = { 'x-forwarded-for': '203.0.113.99' };
    const statuses: number[] = [];
    for (let i = 0; i < 121; i++) statuses.push((await postForm(`${w.url}/@alice/haircut/book`, { start: 'x' }, from)).status);
    assert.deepEqual(statuses.slice(0, 120), Array(120).fill(400), 'invalid forms are answered, not counted as bookings');
    assert.equal(statuses[120], 429);
    const limited = await postForm(`${w.url}/@alice/haircut/book`, { start: 'x' }, from);
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 600, `Retry-After ${retry}`);
    const other = await postForm(`${w.url}/@alice/haircut/book`, { start: 'x' }, { 'x-forwarded-for': '203.0.113.100' });
    assert.equal(other.status, 400, 'other addresses are not affected');
  });

  test('a 50-client race from one address: one booking, the rest 409 or 429 with Retry-After; then a cancel from that address works', async () => {
    const start = soon('14:00', 8);
    const from = { 'x-forwarded-for': '203.0.113.77' };
    const forms = await Promise.all(Array.from({ length: 50 }, () => openForm(w, 'haircut', start)));
    const results = await Promise.all(forms.map((form, i) => postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client(`same${i}`) }, from)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 303).length, 1, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 409).length, 19, 'twenty attempts reach the calendar');
    const refused = results.filter((r) => r.status === 429);
    assert.equal(refused.length, 30);
    for (const r of refused) assert.ok(Number(r.headers.get('retry-after')) > 0);
    const kept = await refused[0]?.text();
    assert.match(kept ?? '', /What you typed is kept: please try again in \d+ min/);
    assert.match(kept ?? '', /name="first_name"[^>]*value="Clientsame\d+"/);
    // Another booking from the address is still refused; cancelling the one made is not.
    const token = (results.find((r) => r.status === 303)?.headers.get('location') ?? '').slice(3).split('?')[0] as string;
    const cancel = await postForm(`${w.url}/b/${token}/cancel`, {}, from);
    assert.equal(cancel.status, 303, 'the cancel has its own bucket');
    assert.match(cancel.headers.get('location') ?? '', /cancelled=1/);
    const forged = await postForm(`${w.url}/b/${'0'.repeat(26)}.${'0'.repeat(32)}/cancel`, {}, from);
    assert.equal(forged.status, 404, 'an unknown link is answered cheaply');
  });

  test('fail closed: when the calendar cannot be read, no slot is offered', async () => {
    await w.radicale?.stop();
    const date = iso(soon('09:00', 25)).slice(0, 10); // a day no earlier test read (the page cache lives 60 s)
    const json = await fetch(`${w.url}/@alice/haircut/slots?from=${date}&to=${date}`);
    assert.equal(json.status, 503, await json.clone().text());
    const page = await fetch(`${w.url}/@alice/haircut?date=${date}&from=${date}`);
    assert.equal(page.status, 503);
    const html = await page.text();
    assert.match(html, /temporarily unavailable/);
    assert.doesNotMatch(html, /class="slots"/);
  });
});

describe('embedding the booking pages in the business site', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ env: { CRENEAU_EMBED_ORIGINS: 'https://www.salon.example' } });
  });
  after(() => w.stop());

  test('client pages may be framed by CRENEAU_EMBED_ORIGINS only; staff pages never', async () => {
    const res = await book(w, 'haircut', soon('10:00'), client('embed'));
    const manage = res.headers.get('location') ?? '';
    for (const path of ['/@alice', '/@alice/haircut', manage]) {
      const r = await fetch(`${w.url}${path}`);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors https:\/\/www\.salon\.example(;|$)/, path);
    }
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors https:\/\/www\.salon\.example/, 'the booking POST too');
    for (const path of ['/admin', '/login', '/privacy', '/']) {
      const r = await fetch(`${w.url}${path}`, { redirect: 'manual' });
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    }
  });
});

describe('booking against the Google stand-in', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ provider: 'google' });
  });
  after(() => w.stop());

  test('the event is inserted with our id and sendUpdates=all; cancel deletes it, and the used form does not book it again', async () => {
    const start = soon('10:00');
    const form = await openForm(w, 'haircut', start);
    const res = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('g') });
    assert.equal(res.status, 303);
    const token = (res.headers.get('location') ?? '').slice(3).split('?')[0] as string;
    const id = token.slice(0, 26);
    const insert = w.google?.state.requestsTo('events.insert').at(-1);
    assert.ok(insert);
    assert.equal(insert.query.get('sendUpdates'), 'all');
    const body = insert.body as { id: string; attendees: { email: string }[]; description: string };
    assert.equal(body.id, id);
    assert.deepEqual(body.attendees.map((a) => a.email), ['clientg@example.com']);
    assert.ok(body.description.includes(`/b/${token}`));
    assert.equal(w.smtp.mails.length, 0, 'Google sends the invitation, not Creneau');
    const page = await fetch(`${w.url}/b/${token}`);
    assert.equal(page.status, 200);
    const cancel = await postForm(`${w.url}/b/${token}/cancel`, {});
    assert.equal(cancel.status, 303);
    const del = w.google?.state.requestsTo('events.delete').at(-1);
    assert.equal(del?.query.get('sendUpdates'), 'all');
    assert.equal((await fetch(`${w.url}/b/${token}`)).status, 404);
    const inserts = w.google?.state.requestsTo('events.insert').length ?? 0;
    const again = await postForm(`${w.url}/@alice/haircut/book`, { ...form, ...client('g') });
    assert.equal(again.status, 410);
    assert.match(await again.text(), /This booking was cancelled/);
    assert.equal(w.google?.state.requestsTo('events.insert').length, inserts + 1, 'one insert tried, refused by Google (the id is used)');
    assert.equal((await fetch(`${w.url}/b/${token}`)).status, 404, 'still cancelled');
  });

  test('moving a booking never lands on another event that overlaps the booking itself', async () => {
    await w.addService('fine', openRules({ durationMinutes: 30, stepMinutes: 10 }), { title: 'Fine' });
    const start = soon('10:00', 9);
    const res = await book(w, 'fine', start, client('gfine'));
    assert.equal(res.status, 303);
    const token = (res.headers.get('location') ?? '').slice(3).split('?')[0] as string;
    // The staff member then adds an event by hand in the booking calendar that overlaps the booking: 10:15–11:00.
    const google = w.google;
    assert.ok(google);
    const bookingCalendar = google.state.requestsTo('events.insert').at(-1)?.path.split('/')[4];
    assert.ok(bookingCalendar);
    google.state.addEvent(decodeURIComponent(bookingCalendar), { start: soon('10:15', 9), end: soon('11:00', 9), summary: 'Supplier visit' });
    // 09:50–10:20 would overlap the hand-made event (10:15–10:20), though only the booking covers 10:00–10:15.
    const overlapping = await postForm(`${w.url}/b/${token}/reschedule`, { start: iso(soon('09:50', 9)), tz: STAFF_ZONE });
    assert.equal(overlapping.status, 409);
    // 09:30–10:00 collides with nothing but the booking's own old time: allowed.
    const fine = await postForm(`${w.url}/b/${token}/reschedule`, { start: iso(soon('09:30', 9)), tz: STAFF_ZONE });
    assert.equal(fine.status, 303);
  });
});
