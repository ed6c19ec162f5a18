// Shared steps of the accounts and catalog HTTP tests (not a test file itself).
import assert from 'node:assert/strict';
import { Browser, hiddenValue, type TestApp } from '../../scripts/test-support/app.js';

export const PASSWORD = 'correct horse battery';

export interface Person {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

/** Runs the setup wizard in a fresh browser; returns it signed in as the owner. */
export async function setupOwner(app: TestApp, who: Partial<Person> & Record<string, string> = {}): Promise<Browser> {
  const b = new Browser(app.url);
  const page = await b.get(`/setup?token=${app.deps.setupToken}`);
  assert.equal(page.status, 200);
  const { username = 'alice', email = 'alice@example.com', password = PASSWORD, ...extra } = who;
  const res = await b.post('/setup', {
    _form: hiddenValue(page.text, '_form'),
    _setup: hiddenValue(page.text, '_setup'),
    username,
    display_name: 'Alice Martin',
    email,
    password,
    password_confirm: password,
    time_zone: 'Europe/Paris',
    locale: 'en',
    ...extra,
  });
  assert.equal(res.status, 303, res.text.slice(0, 500));
  return b;
}

/** Signs in with a fresh browser (or the given one). */
export async function signIn(app: TestApp, login: string, password = PASSWORD, opts: { remember?: boolean; browser?: Browser; next?: string } = {}) {
  const b = opts.browser ?? new Browser(app.url);
  const page = await b.get(`/login${opts.next !== undefined ? `?next=${encodeURIComponent(opts.next)}` : ''}`);
  const form: Record<string, string> = { _form: hiddenValue(page.text, '_form'), login, password, next: opts.next ?? '' };
  if (opts.remember) form.remember = '1';
  const res = await b.post('/login', form);
  return { browser: b, res };
}

/** The session CSRF token from any staff page. */
export async function csrfOf(b: Browser, path = '/admin/profile'): Promise<string> {
  const page = await b.get(path);
  assert.equal(page.status, 200, `GET ${path}`);
  return hiddenValue(page.text, '_csrf');
}

/** Invites a colleague as the owner and accepts in a new browser; returns it signed in. */
export async function inviteColleague(app: TestApp, owner: Browser, p: Person): Promise<Browser> {
  const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: p.email });
  assert.equal(res.status, 201, res.text.slice(0, 300));
  const link = /id="invite-link" value="([^"]+)"/.exec(res.text)?.[1];
  assert.ok(link);
  const b = new Browser(app.url);
  const page = await b.get(new URL(link).pathname);
  assert.equal(page.status, 200);
  const done = await b.post(new URL(link).pathname, {
    _form: hiddenValue(page.text, '_form'),
    username: p.username,
    display_name: p.username,
    password: p.password,
    password_confirm: p.password,
    time_zone: 'Europe/Paris',
    locale: 'fr',
  });
  assert.equal(done.status, 303, done.text.slice(0, 500));
  return b;
}
