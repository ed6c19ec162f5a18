import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ICAL from 'ical.js';
import { client, iso, openForm, openRules, postForm, soon, startWorld, type World } from '../../scripts/test-support/world.js';

// The service's own questions and phone setting on the real booking form (Radicale + SMTP
// sink), "Where" as the service's place, and the 409 / 429 answers that keep what was typed.

const QUESTIONS = [
  { id: 'pets', label: 'Any pets at home?', type: 'choice' as const, required: true, options: ['Cat', 'Dog', 'None'] },
  { id: 'allergies', label: 'Allergies', type: 'textarea' as const, required: false, options: [] },
  { id: 'terms', label: 'I accept the salon rules', type: 'checkbox' as const, required: true, options: [] },
];

async function eventDescriptions(w: World): Promise<{ description: string; location: string }[]> {
  const auth = `Basic ${Buffer.from(`${w.radicale?.username}:${w.radicale?.password}`).toString('base64')}`;
  const res = await fetch(w.calendarUrl as string, {
    method: 'PROPFIND',
    headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' },
    body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
  });
  const hrefs = [...(await res.text()).matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => m[1] as string);
  const out: { description: string; location: string }[] = [];
  for (const href of hrefs) {
    const ics = await (await fetch(new URL(href, w.calendarUrl as string), { headers: { authorization: auth } })).text();
    for (const ev of new ICAL.Component(ICAL.parse(ics)).getAllSubcomponents('vevent')) {
      out.push({ description: String(ev.getFirstPropertyValue('description')), location: String(ev.getFirstPropertyValue('location') ?? '') });
    }
  }
  return out;
}

describe('service questions, phone setting and kept fields', () => {
  let w: World;
  before(async () => {
    w = await startWorld({ env: { CRENEAU_TRUST_PROXY: 'on' } });
    await w.addService('visit', openRules(), {
      title: 'Home visit',
      location: '12 rue de la Paix, Paris',
      fields: { note: 'off', address: 'required', company: 'off', job_title: 'off', conference: 'off', phone: 'off' },
      questions: QUESTIONS,
    });
  });
  after(() => w.stop());

  test('the form asks the questions and no phone; a missing required answer is named; answers reach the event recap only', async () => {
    const start = soon('10:00');
    const page = await (await fetch(`${w.url}/@alice/visit?start=${encodeURIComponent(iso(start))}&tz=Europe/Paris`)).text();
    assert.doesNotMatch(page, /name="phone"/, 'phone not asked when off');
    assert.match(page, /<legend>Any pets at home\?<\/legend>/);
    assert.match(page, /<input type="radio" id="f-q_pets-1" name="q_pets" value="Dog" required><label for="f-q_pets-1">Dog<\/label>/);
    assert.match(page, /<textarea id="f-q_allergies" name="q_allergies"><\/textarea>/);
    assert.match(page, /<input type="checkbox" id="f-q_terms" name="q_terms" value="1" required>/);

    const form = await openForm(w, 'visit', start);
    const who = client('q1', { phone: '', address: '5 avenue Foch, Lyon', q_allergies: 'Pollen-canary-7731\nand dust', q_pets: 'Parrot' });
    const bad = await postForm(`${w.url}/@alice/visit/book`, { ...form, ...who });
    assert.equal(bad.status, 422);
    const badHtml = await bad.text();
    assert.match(badHtml, /<a href="#f-q_pets">Any pets at home\?: choose one of the answers<\/a>/, 'an answer outside the options is refused');
    assert.match(badHtml, /<a href="#f-q_terms">I accept the salon rules: this field is required<\/a>/);
    assert.match(badHtml, /Pollen-canary-7731\nand dust<\/textarea>/, 'typed answers kept');

    const ok = await postForm(`${w.url}/@alice/visit/book`, { ...form, ...who, q_pets: 'Dog', q_terms: '1' });
    assert.equal(ok.status, 303, (await ok.text()).slice(0, 1500));
    const ev = (await eventDescriptions(w)).find((e) => e.description.includes('Pollen-canary-7731'));
    assert.ok(ev, 'the answers are in the event');
    assert.match(ev.description, /Any pets at home\?: Dog\n/);
    assert.match(ev.description, /Allergies: Pollen-canary-7731\nand dust\n/);
    assert.match(ev.description, /I accept the salon rules: yes\n/);
    assert.match(ev.description, /Address: 5 avenue Foch, Lyon/, "the client's address is shown as theirs");
    assert.doesNotMatch(ev.description, /Phone:/, 'no empty phone line');
    assert.equal(ev.location, '12 rue de la Paix, Paris', '"Where" is the service\'s place, not the client\'s address');

    const confirmation = await (await fetch(`${w.url}${ok.headers.get('location')}`)).text();
    assert.match(confirmation, /12 rue de la Paix, Paris/);

    // Nothing of the answers on disk: every file of the data folder is free of the canary.
    const dir = w.deps.config.dataDir;
    for (const name of readdirSync(dir)) assert.ok(!readFileSync(join(dir, name)).includes('Pollen-canary-7731'), `${name} holds an answer`);
  });

  test('409: the slot went to someone else — the form comes back with what was typed and other free times', async () => {
    const start = soon('14:00');
    const mine = await openForm(w, 'visit', start);
    const theirs = await openForm(w, 'visit', start);
    const winner = await postForm(`${w.url}/@alice/visit/book`, { ...theirs, ...client('win', { address: 'x', q_pets: 'Cat', q_terms: '1' }) });
    assert.equal(winner.status, 303);
    const typed = client('late', { first_name: 'Éloïse', address: '7 quai Saint-Vincent', q_pets: 'None', q_allergies: 'Peanuts', q_terms: '1' });
    const lost = await postForm(`${w.url}/@alice/visit/book`, { ...mine, ...typed });
    assert.equal(lost.status, 409);
    const html = await lost.text();
    assert.match(html, /someone just booked this time/);
    assert.match(html, /name="first_name"[^>]*value="Éloïse"/);
    assert.match(html, /name="address"[^>]*>7 quai Saint-Vincent<\/textarea>/);
    assert.match(html, /name="q_pets" value="None" checked/);
    assert.match(html, />Peanuts<\/textarea>/);
    assert.match(html, /name="q_terms" value="1" checked/);
    const times = [...html.matchAll(/<input type="radio" id="f-start-\d+" name="start" value="([^"]+)"( checked)?>/g)];
    assert.ok(times.length >= 2, 'several other free times');
    assert.ok(!times.some((m) => m[1] === iso(start)), 'the lost time is not offered');
    assert.equal(times[0]?.[2], ' checked', 'the first one is chosen');
    const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
    const again = await postForm(`${w.url}/@alice/visit/book`, { ...typed, tz: hidden.tz ?? '', form_token: hidden.form_token ?? '', start: times[1]?.[1] ?? '' });
    assert.equal(again.status, 303, 'posting the kept form with another time books it');
  });

  test('429: the rate limit answers with the form and what was typed', async () => {
    const start = soon('16:00');
    const form = await openForm(w, 'visit', start);
    const from = { 'x-forwarded-for': '203.0.113.150' };
    const typed = client('busy', { last_name: 'Ngô', address: '3 rue Neuve', q_pets: 'Cat', q_allergies: 'None known', q_terms: '1' });
    // Twenty attempts that reach the calendar (a time that is not offered: each is a live read, then 409).
    const closed = iso(soon('03:00'));
    for (let i = 0; i < 20; i++) assert.equal((await postForm(`${w.url}/@alice/visit/book`, { ...form, ...typed, start: closed }, from)).status, 409);
    const limited = await postForm(`${w.url}/@alice/visit/book`, { ...form, ...typed }, from);
    assert.equal(limited.status, 429);
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry > 500 && retry <= 600, `Retry-After ${retry}`);
    const html = await limited.text();
    assert.match(html, /Too many attempts from your connection\. What you typed is kept: please try again in 10 min\./);
    assert.match(html, /name="last_name"[^>]*value="Ngô"/);
    assert.match(html, /name="q_pets" value="Cat" checked/);
    assert.match(html, />None known<\/textarea>/);
    assert.match(html, /<input type="hidden" name="start" value="[^"]+">/, 'the same time, to try again later');
    assert.equal((await eventDescriptions(w)).filter((e) => e.description.includes('Ngô')).length, 0, 'nothing booked');
  });
});
