import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { client, openForm, openRules, postForm, soon, startWorld, STAFF_ZONE, type World } from '../../scripts/test-support/world.js';
import { sealPending, OPT_IN_TTL_MS } from './opt-in.js';
import { verifyFormToken } from './booking.js';
import { Browser, hiddenValue } from '../../scripts/test-support/app.js';
import { hashPassword } from '../accounts/password.js';
import { setPasswordHash } from '../accounts/accounts.repo.js';

// What the client and the staff member hear, end to end (issue #16): the real booking form,
// a real Radicale (or the Google stand-in for approval), the real SMTP sink. Links carry the
// client's zone; the cut-off; approval; double opt-in.

const MIN = 60_000;
const NY = 'America/New_York';

/** Books like a client from `tz`; the answer as it came (303, 202, 409…). */
async function book(w: World, service: string, start: number, n: string, tz = STAFF_ZONE): Promise<Response> {
  const form = await openForm(w, service, start, tz);
  return postForm(`${w.url}/@alice/${service}/book`, { ...form, ...client(n) });
}

const tokenOf = (res: Response): string => /\/b\/([^?]+)/.exec(res.headers.get('location') ?? '')?.[1] ?? '';

/** The booking event as the calendar has it now (whatever the provider). */
async function eventOf(w: World, token: string) {
  const connected = await w.deps.calendars.forStaff(w.staffId, STAFF_ZONE);
  assert.ok(connected);
  return connected.provider.getEvent(token.slice(0, 26));
}

async function bookingsOn(w: World, start: number) {
  const connected = await w.deps.calendars.forStaff(w.staffId, STAFF_ZONE);
  assert.ok(connected);
  const r = await connected.provider.bookings({ start: start - 3600_000, end: start + 3600_000 });
  assert.ok(r.ok);
  return r.value;
}

const mailsTo = (w: World, address: string, subject: RegExp) => w.smtp.mails.filter((m) => m.to === address && subject.test(m.subject));

async function waitMail(w: World, address: string, subject: RegExp) {
  const until = Date.now() + 5000;
  while (mailsTo(w, address, subject).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  const [m] = mailsTo(w, address, subject);
  assert.ok(m, `a mail to ${address} matching ${subject}: ${w.smtp.mails.map((x) => `${x.to} ${x.subject}`).join(' | ')}`);
  return m;
}

describe('what the client hears (Radicale + SMTP sink)', () => {
  let w: World;
  let checkedId = 0;
  before(async () => {
    w = await startWorld();
    await w.addService('late', openRules(), { title: 'Late', cancelCutoffMinutes: 4 * 1440 });
    checkedId = await w.addService('checked', openRules(), { title: 'Checked', confirmEmail: true });
  });
  after(async () => {
    await w?.stop();
  });

  it("every link carries the client's zone and the e-mails tell the time in it", async () => {
    const start = soon('10:00', 3);
    const res = await book(w, 'haircut', start, 'tz', NY);
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /\?tz=America%2FNew_York$/);
    const token = tokenOf(res);
    const ev = await eventOf(w, token);
    assert.ok(ev.ok);
    assert.ok(ev.value.description.includes(`/b/${token}?tz=America%2FNew_York`), ev.value.description);
    assert.ok(ev.value.description.includes(`/b/${token}/reschedule?tz=America%2FNew_York`));
    assert.equal(ev.value.clientTimeZone, NY);
    const mail = await waitMail(w, 'clienttz@example.com', /Invitation/);
    const hour = DateTime.fromMillis(start, { zone: NY }).hour;
    assert.match(mail.text, new RegExp(`\\b0?${hour}[:h]00\\b|\\b${hour % 12 || 12}:00 [AP]M`), mail.text);
    assert.match(mail.text, /America\/New York/);
    assert.ok(mail.text.includes(`/b/${token}?tz=America%2FNew_York`));
    assert.match(mail.raw, /^Auto-Submitted: auto-generated/im);
    // The manage page without ?tz= still shows the client's zone (recorded on the event).
    const page = await (await fetch(`${w.url}/b/${token}`)).text();
    assert.match(page, /America\/New York/);
    // The cancel e-mail too.
    assert.equal((await postForm(`${w.url}/b/${token}/cancel`, {})).status, 303);
    const cancel = await waitMail(w, 'clienttz@example.com', /Cancelled/);
    assert.match(cancel.text, /America\/New York/);
  });

  it('inside the cut-off the manage page has no buttons and names the staff e-mail; the posts are refused and nothing changes', async () => {
    const start = soon('11:00', 2);
    const res = await book(w, 'late', start, 'cut');
    assert.equal(res.status, 303);
    const token = tokenOf(res);
    const page = await (await fetch(`${w.url}/b/${token}`)).text();
    assert.ok(!page.includes(`/b/${token}/reschedule`), 'no reschedule button');
    assert.ok(!page.includes('action=cancel'), 'no cancel button');
    assert.ok(page.includes('alice@salon.test'), 'how to reach the staff member');
    const cancel = await postForm(`${w.url}/b/${token}/cancel`, {});
    assert.equal(cancel.status, 409);
    const move = await postForm(`${w.url}/b/${token}/reschedule`, { start: DateTime.fromMillis(start + 3600_000, { zone: STAFF_ZONE }).toISO() ?? '' });
    assert.equal(move.status, 409);
    const ev = await eventOf(w, token);
    assert.ok(ev.ok && !ev.value.cancelled && ev.value.start === start, 'unchanged');
    // A booking outside the cut-off keeps its buttons.
    const far = await book(w, 'late', soon('11:00', 9), 'cutfar');
    const farPage = await (await fetch(`${w.url}/b/${tokenOf(far)}`)).text();
    assert.ok(farPage.includes('action=cancel'));
  });

  it('double opt-in: 202 and nothing written; the link makes one event however often it is used', async () => {
    const start = soon('12:00', 3);
    const res = await book(w, 'checked', start, 'opt', NY);
    assert.equal(res.status, 202);
    assert.match(await res.text(), /optin|e-mail/i);
    assert.equal((await bookingsOn(w, start)).length, 0, 'nothing in the calendar yet');
    const mail = await waitMail(w, 'clientopt@example.com', /confirm/i);
    const link = /https?:\/\/\S+\/confirm\/\S+/.exec(mail.text)?.[0] ?? '';
    assert.ok(link.includes('?tz=America%2FNew_York'), link);
    const shown = await fetch(link);
    assert.equal(shown.status, 200);
    assert.equal((await bookingsOn(w, start)).length, 0, 'opening the page writes nothing (a mail scanner may prefetch it)');
    const action = new URL(link).pathname;
    const first = await postForm(`${w.url}${action}`, { tz: NY });
    assert.equal(first.status, 303);
    assert.match(first.headers.get('location') ?? '', /\?tz=America%2FNew_York$/);
    const second = await postForm(`${w.url}${action}`, { tz: NY });
    assert.equal(second.status, 303);
    assert.equal(tokenOf(second), tokenOf(first), 'the same booking');
    const events = await bookingsOn(w, start);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.attendeeEmail, 'clientopt@example.com');
  });

  it('double opt-in: an expired link shows a clear page; a slot taken meanwhile shows the form with other times', async () => {
    const start = soon('14:00', 3);
    const form = await openForm(w, 'checked', start);
    const formId = verifyFormToken(w.deps.keyring, form.form_token ?? '', w.staffId, checkedId, Date.now());
    assert.ok(formId);
    const details = { firstName: 'Late', lastName: 'Client', email: 'old@example.com', phone: '', extra: {} };
    const pending = { staffId: w.staffId, serviceId: checkedId, start, tz: STAFF_ZONE, lang: 'en', formId, client: details };
    const old = sealPending(w.deps.keyring, pending, Date.now() - OPT_IN_TTL_MS - MIN);
    const expired = await postForm(`${w.url}/confirm/${old}`, {});
    assert.equal(expired.status, 410);
    assert.match(await expired.text(), /expired/i);
    assert.equal((await fetch(`${w.url}/confirm/${old}`)).status, 410);
    assert.equal((await fetch(`${w.url}/confirm/not-a-link`)).status, 404);

    const fresh = sealPending(w.deps.keyring, pending, Date.now());
    // Someone else books the slot through a service without opt-in before the link is used.
    assert.equal((await book(w, 'haircut', start, 'quick')).status, 303);
    const taken = await postForm(`${w.url}/confirm/${fresh}`, {});
    assert.equal(taken.status, 409);
    const html = await taken.text();
    assert.ok(html.includes('value="old@example.com"'), 'the form again, filled in');
    assert.match(html, /name="form_token"/);
    assert.equal((await bookingsOn(w, start)).filter((b) => b.attendeeEmail === 'old@example.com').length, 0);
  });
});

describe('without SMTP and a calendar that does not invite', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ env: { CRENEAU_SMTP_URL: '', CRENEAU_MAIL_FROM: '' } });
    await w.addService('asked', openRules(), { title: 'Asked', approval: true, confirmEmail: true, reminders: [120] });
  });
  after(async () => {
    await w?.stop();
  });

  it('the booking page still works (even for a service asking approval and e-mail confirmation) and the admin home says clients receive nothing', async () => {
    assert.equal(w.deps.mailer, null);
    const plain = await book(w, 'haircut', soon('10:00', 3), 'nomail');
    assert.equal(plain.status, 303);
    assert.match(await (await fetch(`${w.url}/b/${tokenOf(plain)}`)).text(), /No invitation was e-mailed/);
    const asked = await book(w, 'asked', soon('11:00', 3), 'nomail2');
    assert.equal(asked.status, 303, 'booked at once: nobody could receive the links');
    const ev = await eventOf(w, tokenOf(asked));
    assert.ok(ev.ok && ev.value.status === undefined, 'confirmed, not a request nobody can approve');

    const password = 'a long enough passphrase';
    await setPasswordHash(w.deps.db, w.staffId, await hashPassword(password), Date.now());
    const staff = new Browser(w.url);
    const login = await staff.get('/login');
    assert.equal((await staff.post('/login', { _form: hiddenValue(login.text, '_form'), login: 'alice', password, next: '' })).status, 303);
    const home = await staff.get('/admin');
    assert.match(home.text, /Clients will receive nothing by e-mail/);
    assert.match(home.text, /Reminders, approval and e-mail confirmation need an SMTP server/);
  });
});

for (const provider of ['caldav', 'google'] as const) {
  describe(`approval (${provider})`, () => {
    let w: World;
    before(async () => {
      w = await startWorld({ provider });
      await w.addService('asked', openRules(), { title: 'Asked', approval: true });
    });
    after(async () => {
      await w?.stop();
    });

    /** The staff member's approve and decline links from their e-mail for one client. */
    async function staffLinks(n: string): Promise<{ approve: string; decline: string }> {
      const until = Date.now() + 5000;
      let mail;
      while (!mail && Date.now() < until) {
        mail = w.smtp.mails.find((m) => m.to === 'alice@salon.test' && m.text.includes(`client${n}@example.com`));
        if (!mail) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(mail, 'the staff member got the request');
      const approve = /https?:\/\/\S+\/approve\/\S+/.exec(mail.text)?.[0] ?? '';
      const decline = /https?:\/\/\S+\/decline\/\S+/.exec(mail.text)?.[0] ?? '';
      assert.ok(approve && decline, mail.text);
      return { approve: new URL(approve).pathname, decline: new URL(decline).pathname };
    }

    it('a request is tentative and blocks the slot; approve confirms it and invites the client', async () => {
      const start = soon('10:00', 4);
      const res = await book(w, 'asked', start, 'ap', NY);
      assert.equal(res.status, 303);
      const token = tokenOf(res);
      assert.match(await (await fetch(`${w.url}/b/${token}`)).text(), /Request received/);
      const ev = await eventOf(w, token);
      assert.ok(ev.ok);
      assert.equal(ev.value.status, 'TENTATIVE');
      await waitMail(w, 'clientap@example.com', /Request received/);
      // Pending requests block the slot.
      await assert.rejects(openForm(w, 'asked', start), /no booking form/, 'the slot is no longer offered');
      const { approve } = await staffLinks('ap');
      const shown = await fetch(`${w.url}${approve}`);
      assert.equal(shown.status, 200);
      const page = await shown.text();
      assert.match(page, /<form method="post"/);
      assert.match(page, /Europe\/Paris/, "the staff member's page is in their zone");
      assert.doesNotMatch(page, /New York/);
      const still = await eventOf(w, token);
      assert.ok(still.ok && still.value.status === 'TENTATIVE', 'opening the link changes nothing');
      const done = await postForm(`${w.url}${approve}`, {});
      assert.equal(done.status, 200);
      const after = await eventOf(w, token);
      assert.ok(after.ok);
      assert.equal(after.value.status, undefined, 'CONFIRMED');
      if (provider === 'caldav') {
        const invite = await waitMail(w, 'clientap@example.com', /Invitation/);
        assert.equal(invite.method, 'REQUEST');
      }
      assert.equal((await postForm(`${w.url}${approve}`, {})).status, 200, 'approving twice is harmless');
    });

    it('decline cancels the request and tells the client', async () => {
      const start = soon('11:00', 4);
      const res = await book(w, 'asked', start, 'de');
      const token = tokenOf(res);
      const { decline } = await staffLinks('de');
      assert.equal((await postForm(`${w.url}${decline}`, {})).status, 200);
      const ev = await eventOf(w, token);
      assert.ok(!ev.ok || ev.value.cancelled, 'cancelled');
      const told = await waitMail(w, 'clientde@example.com', /Not available/);
      assert.match(told.text, /could not be accepted/);
    });

    it('a conflict that appeared meanwhile is reported at approval, and nothing is overwritten', async () => {
      const start = soon('13:00', 4);
      const res = await book(w, 'asked', start, 'cf');
      const token = tokenOf(res);
      const { approve } = await staffLinks('cf');
      await addForeignEvent(w, start);
      const answer = await postForm(`${w.url}${approve}`, {});
      assert.equal(answer.status, 409);
      const ev = await eventOf(w, token);
      assert.ok(ev.ok);
      assert.equal(ev.value.status, 'TENTATIVE', 'still a request');
    });
  });
}

/** The staff member adds something of their own at that time in their calendar app. */
async function addForeignEvent(w: World, start: number): Promise<void> {
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  if (w.dav && w.calendarUrl) {
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:foreign-${start}@test`, `DTSTAMP:${stamp(Date.now())}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 30 * MIN)}`, 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    const status = await w.dav.put(w.calendarUrl, `foreign-${start}.ics`, ics);
    assert.ok(status === 201 || status === 204, `PUT ${status}`);
    return;
  }
  const primary = [...(w.google?.state.calendars.values() ?? [])].find((c) => c.primary);
  assert.ok(primary);
  w.google?.state.addEvent(primary.id, { start, end: start + 30 * MIN, summary: 'Dentist' });
}
