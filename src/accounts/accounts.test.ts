import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Browser, hiddenValue, startTestApp, type TestApp } from '../../scripts/test-support/app.js';
import { flatPng, pngFile } from '../../scripts/test-support/png.js';
import { fixedClock } from '../lib/clock.js';
import { csrfOf, inviteColleague, PASSWORD, setupOwner, signIn } from './test-helpers.js';

describe('first run', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.stop());

  test('/ and /login send to /setup until an owner exists; then /setup is a 404 forever', async () => {
    const b = new Browser(app.url);
    assert.equal((await b.get('/')).location, '/setup');
    assert.equal((await b.get('/login')).location, '/setup');
    const owner = await setupOwner(app);
    assert.ok([...owner.cookies.keys()].some((k) => k.endsWith('creneau_session')), 'signed in after setup');
    assert.equal((await owner.get('/admin')).status, 200);
    assert.equal((await b.get('/setup')).status, 404);
    assert.equal((await b.post('/setup', { username: 'mallory', email: 'm@example.com' })).status, 404);
    assert.equal((await b.get('/')).status, 200);
  });
});

describe('setup token', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.stop());

  test('no owner can be created without the one-time token; the page says where to find it', async () => {
    const b = new Browser(app.url);
    for (const path of ['/setup', '/setup?token=', '/setup?token=AAAAAAAAAAAAAAAAAAAAAA']) {
      const page = await b.get(path);
      assert.equal(page.status, 403, path);
      assert.match(page.text, /docker compose logs creneau/, path);
      assert.doesNotMatch(page.text, /name="password"/, `${path}: no form without the token`);
    }
    // A complete, well-formed form (valid anti-forgery token) but a missing or wrong setup token.
    const real = await b.get(`/setup?token=${app.deps.setupToken}`);
    const form = {
      _form: hiddenValue(real.text, '_form'),
      username: 'mallory',
      display_name: 'Mallory',
      email: 'mallory@example.com',
      password: PASSWORD,
      password_confirm: PASSWORD,
      time_zone: 'Europe/Paris',
      locale: 'en',
    };
    for (const setup of [undefined, '', 'AAAAAAAAAAAAAAAAAAAAAA', `${app.deps.setupToken}x`]) {
      const res = await b.post('/setup', setup === undefined ? form : { ...form, _setup: setup });
      assert.equal(res.status, 403, String(setup));
      assert.ok(![...b.cookies.keys()].some((k) => k.endsWith('creneau_session')), 'not signed in');
    }
    const { n } = app.deps.sqlite.prepare('select count(*) as n from staff').get() as { n: number };
    assert.equal(n, 0, 'no account was created');
    assert.equal((await b.get('/login')).location, '/setup', 'still no owner');
    // The same form with the token printed at start-up creates the owner.
    const ok = await b.post('/setup', { ...form, _setup: hiddenValue(real.text, '_setup') });
    assert.equal(ok.status, 303);
  });
});

describe('setup form checks', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.stop());

  test('without the form token the setup POST is refused', async () => {
    const b = new Browser(app.url);
    const res = await b.post('/setup', { _setup: app.deps.setupToken, username: 'alice', display_name: 'A', email: 'a@example.com', password: PASSWORD, password_confirm: PASSWORD, time_zone: 'UTC', locale: 'en' });
    assert.equal(res.status, 403);
    const forged = await b.post('/setup', { _form: '123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', _setup: app.deps.setupToken, username: 'alice' });
    assert.equal(forged.status, 403);
  });

  test('a cross-site POST (foreign Origin) is refused', async () => {
    const b = new Browser(app.url);
    const page = await b.get(`/setup?token=${app.deps.setupToken}`);
    const res = await b.post('/setup', { _form: hiddenValue(page.text, '_form'), _setup: app.deps.setupToken, username: 'alice' }, { origin: 'https://evil.example' });
    assert.equal(res.status, 403);
  });

  test('usernames: confusables, fullwidth, reserved names and bad input re-render with 422 and messages', async () => {
    const b = new Browser(app.url);
    const cases: [string, RegExp][] = [
      ['\u0430lice', /lower-case letters a–z/], // Cyrillic а
      ['ａｄｍｉｎ', /reserved/], // fullwidth → admin
      ['Setup', /reserved/],
      ['well-known', /reserved/],
      ['ab', /3 to 32/],
      ['al ice', /3 to 32/],
    ];
    for (const [username, message] of cases) {
      const page = await b.get(`/setup?token=${app.deps.setupToken}`);
      const res = await b.post('/setup', {
        _form: hiddenValue(page.text, '_form'),
        _setup: hiddenValue(page.text, '_setup'),
        username,
        display_name: 'A',
        email: 'a@example.com',
        password: PASSWORD,
        password_confirm: PASSWORD,
        time_zone: 'Europe/Paris',
        locale: 'en',
      });
      assert.equal(res.status, 422, username);
      assert.match(res.text, message, username);
      assert.match(res.text, /class="error-summary"/);
      assert.match(res.text, /id="username"[^>]*aria-invalid="true"/);
    }
    const page = await b.get(`/setup?token=${app.deps.setupToken}`);
    const res = await b.post('/setup', {
      _form: hiddenValue(page.text, '_form'),
      _setup: app.deps.setupToken,
      username: 'ok-name',
      display_name: '',
      email: 'nope',
      password: 'short',
      password_confirm: 'short',
      time_zone: 'Mars/Olympus',
      locale: 'de',
    });
    assert.equal(res.status, 422);
    for (const m of [/This field is required/, /Enter an e-mail address/, /at least 10/, /Choose a time zone/, /Choose a language/]) assert.match(res.text, m);
    assert.match(res.text, /There are 5 problems/);
    assert.match(res.text, /value="ok-name"/, 'values kept');
  });

  test('fullwidth letters are normalised: ｂｏｂ becomes bob', async () => {
    const owner = await setupOwner(app, { username: 'ｂｏｂ', email: 'BOB@Example.com' });
    const page = await owner.get('/admin/profile');
    assert.match(page.text, /id="username" name="username" value="bob"/);
    assert.match(page.text, /value="bob@example.com"/);
  });
});

describe('sign-in, sessions and CSRF', () => {
  let app: TestApp;
  const clock = fixedClock(Date.UTC(2026, 10, 2, 9, 0));
  before(async () => {
    app = await startTestApp({}, { clock });
    await setupOwner(app);
  });
  after(() => app.stop());

  test('sign in by username or e-mail; wrong password and unknown user get the same answer', async () => {
    const ok1 = await signIn(app, 'alice');
    assert.equal(ok1.res.status, 303);
    assert.equal(ok1.res.location, '/admin');
    const ok2 = await signIn(app, 'ALICE@example.com');
    assert.equal(ok2.res.status, 303);
    const wrong = await signIn(app, 'alice', 'not the password');
    const unknown = await signIn(app, 'nobody-here', 'not the password');
    assert.equal(wrong.res.status, 422);
    assert.equal(unknown.res.status, 422);
    const msg = (t: string) => /<div class="notice warn" role="alert">([^<]*)</.exec(t)?.[1];
    assert.equal(msg(wrong.res.text), msg(unknown.res.text));
    assert.equal(wrong.browser.cookies.size, 0, 'no cookie on failure');
  });

  test('similar timing for unknown users (a dummy hash is verified)', async () => {
    const time = async (login: string) => {
      const started = performance.now();
      await signIn(app, login, 'wrong password!!');
      return performance.now() - started;
    };
    await time('warm-up');
    const known = (await time('alice@example.com')) + (await time('alice@example.com'));
    const unknown = (await time('ghost1')) + (await time('ghost2'));
    assert.ok(unknown > known * 0.4, `unknown ${unknown.toFixed(0)} ms vs known ${known.toFixed(0)} ms`);
  });

  test('session fixation: a cookie set beforehand is not honoured and sign-in issues a new id', async () => {
    const b = new Browser(app.url);
    b.cookies.set('creneau_session', 'attacker-chosen-session-id-0000000000000000');
    const before = await b.get('/admin');
    assert.equal(before.status, 303);
    assert.match(before.location ?? '', /^\/login\?next=%2Fadmin/);
    await signIn(app, 'alice', PASSWORD, { browser: b });
    const id = b.cookies.get('creneau_session');
    assert.ok(id && id !== 'attacker-chosen-session-id-0000000000000000');
    assert.equal((await b.get('/admin')).status, 200);
    // The table holds a hash, not the cookie value.
    const rows = app.deps.sqlite.prepare('select id_hash from sessions').all() as { id_hash: string }[];
    assert.ok(rows.every((r) => r.id_hash !== id));
  });

  test('open redirects after sign-in are refused; local paths are kept', async () => {
    for (const next of ['//evil.example/x', '/\\evil.example', 'https:evil.example', 'https://evil.example', ' /admin', 'javascript:alert(1)']) {
      const { res } = await signIn(app, 'alice', PASSWORD, { next });
      assert.equal(res.status, 303);
      assert.equal(res.location, '/admin', next);
    }
    const { res } = await signIn(app, 'alice', PASSWORD, { next: '/admin/services?x=1' });
    assert.equal(res.location, '/admin/services?x=1');
  });

  test('staff POSTs need the session CSRF token: none or a wrong one is refused', async () => {
    const { browser: b } = await signIn(app, 'alice');
    const token = await csrfOf(b);
    const form = { username: 'alice', display_name: 'Hacked', email: 'alice@example.com', time_zone: 'Europe/Paris', locale: 'en' };
    assert.equal((await b.post('/admin/profile', form)).status, 403);
    assert.equal((await b.post('/admin/profile', { ...form, _csrf: 'x'.repeat(43) })).status, 403);
    // Another session's token does not work either.
    const other = await signIn(app, 'alice');
    assert.equal((await b.post('/admin/profile', { ...form, _csrf: await csrfOf(other.browser) })).status, 403);
    assert.doesNotMatch((await b.get('/admin/profile')).text, /Hacked/);
    assert.equal((await b.post('/admin/profile', { ...form, display_name: 'Alice M.', _csrf: token })).status, 303);
    assert.equal((await b.post('/logout', {})).status, 403, 'logout needs the token too');
  });

  test('logout ends the session server-side', async () => {
    const { browser: b } = await signIn(app, 'alice');
    const stolen = b.cookies.get('creneau_session') as string;
    const res = await b.post('/logout', { _csrf: await csrfOf(b) });
    assert.equal(res.status, 303);
    const thief = new Browser(app.url);
    thief.cookies.set('creneau_session', stolen);
    assert.equal((await thief.get('/admin')).status, 303);
  });

  test('idle timeout of 12 hours and absolute lifetime of 7 days', async () => {
    const { browser: b } = await signIn(app, 'alice');
    clock.advance(11 * 3600_000);
    assert.equal((await b.get('/admin')).status, 200);
    clock.advance(11 * 3600_000);
    assert.equal((await b.get('/admin')).status, 200, 'still active: the idle timer restarted');
    clock.advance(12 * 3600_000 + 60_000);
    assert.equal((await b.get('/admin')).status, 303, 'idle for 12 h');

    const { browser: c } = await signIn(app, 'alice');
    for (let h = 0; h < 7 * 24; h += 10) {
      clock.advance(10 * 3600_000);
      const res = await c.get('/admin');
      if (h + 10 < 7 * 24) assert.equal(res.status, 200, `after ${h + 10} h`);
      else assert.equal(res.status, 303, 'absolute limit');
    }
  });

  test('remember-me signs in again after the session ended, rotating the token; a replayed token fails', async () => {
    const { browser: b } = await signIn(app, 'alice', PASSWORD, { remember: true });
    const first = b.cookies.get('creneau_remember');
    assert.ok(first);
    clock.advance(13 * 3600_000);
    assert.equal((await b.get('/admin')).status, 200, 'remembered');
    const second = b.cookies.get('creneau_remember');
    assert.ok(second && second !== first, 'rotated');
    const replay = new Browser(app.url);
    replay.cookies.set('creneau_remember', first);
    assert.equal((await replay.get('/admin')).status, 303, 'old token is spent');
    // The replay of a spent token is treated as theft? It is simply unknown; the live one still works.
    clock.advance(13 * 3600_000);
    assert.equal((await b.get('/admin')).status, 200);
    const rows = app.deps.sqlite.prepare('select validator_hash from remember_tokens').all() as { validator_hash: string }[];
    const validator = (b.cookies.get('creneau_remember') as string).split('.')[1];
    assert.ok(rows.every((r) => r.validator_hash !== validator), 'validator stored hashed');
  });

  test('a password change ends every other session and remember-me token', async () => {
    const { browser: mine } = await signIn(app, 'alice');
    const { browser: other } = await signIn(app, 'alice', PASSWORD, { remember: true });
    const wrong = await mine.post('/admin/profile/password', { _csrf: await csrfOf(mine), current_password: 'nope', password: 'a new long password', password_confirm: 'a new long password' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.text, /not your current password/);
    const res = await mine.post('/admin/profile/password', { _csrf: await csrfOf(mine), current_password: PASSWORD, password: 'a new long password', password_confirm: 'a new long password' });
    assert.equal(res.status, 303);
    assert.equal((await mine.get('/admin')).status, 200, 'this session stays');
    assert.equal((await other.get('/admin')).status, 303, 'the other one is gone, remember-me too');
    assert.equal((await signIn(app, 'alice', PASSWORD)).res.status, 422);
    assert.equal((await signIn(app, 'alice', 'a new long password')).res.status, 303);
    const back = await mine.post('/admin/profile/password', { _csrf: await csrfOf(mine), current_password: 'a new long password', password: PASSWORD, password_confirm: PASSWORD });
    assert.equal(back.status, 303);
  });
});

describe('throttling', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
    await setupOwner(app);
  });
  after(() => app.stop());

  test('five failures lock the account for a while, even with the right password; unknown names behave the same', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await signIn(app, 'alice', `wrong ${i} password`)).res.status, 422);
    const locked = await signIn(app, 'alice', PASSWORD);
    assert.equal(locked.res.status, 429);
    assert.match(locked.res.text, /Too many failed attempts/);
    assert.equal(locked.browser.cookies.size, 0);
    for (let i = 0; i < 5; i++) await signIn(app, 'ghost', `wrong ${i} password`);
    assert.equal((await signIn(app, 'ghost', 'anything at all')).res.status, 429);
  });

  test('per address: many names from one address are stopped too; no address is stored', async () => {
    let last = 0;
    for (let i = 0; i < 40 && last !== 429; i++) last = (await signIn(app, `user-${i}`, 'wrong password')).res.status;
    assert.equal(last, 429);
    const dump = readFileSync(join(app.dataDir, 'creneau.sqlite')).toString('latin1') + (existsSync(join(app.dataDir, 'creneau.sqlite-wal')) ? readFileSync(join(app.dataDir, 'creneau.sqlite-wal')).toString('latin1') : '');
    assert.ok(!dump.includes('127.0.0.1'));
  });
});

describe('profile, escaping, pictures', () => {
  let app: TestApp;
  let owner: Browser;
  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app);
  });
  after(() => app.stop());

  test('XSS payloads in every profile field are rendered escaped', async () => {
    const xss = '<script>alert(1)</script>"\'><img src=x onerror=alert(1)>';
    const res = await owner.post('/admin/profile', {
      _csrf: await csrfOf(owner),
      username: 'alice',
      display_name: `D${xss}`,
      email: 'alice@example.com',
      time_zone: 'Europe/Paris',
      locale: 'en',
      bio: `B${xss}`,
      place: `P${xss}`,
    });
    assert.equal(res.status, 303);
    for (const path of ['/admin/profile', '/', '/admin', '/@alice']) {
      const page = await owner.get(path);
      assert.doesNotMatch(page.text, /<script>alert|<img src=x/, path);
    }
    const page = await owner.get('/admin/profile');
    assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    // A 422 re-render escapes the typed values too.
    const bad = await owner.post('/admin/profile', { _csrf: await csrfOf(owner), username: xss, display_name: xss, email: xss, time_zone: xss, locale: xss, bio: xss, place: xss });
    assert.equal(bad.status, 422);
    assert.doesNotMatch(bad.text, /<script>alert|<img src=x/);
  });

  test('mass assignment: is_owner, id and other unexpected fields are ignored', async () => {
    const colleague = await inviteColleague(app, owner, { username: 'bob', email: 'bob@example.com', password: PASSWORD });
    const res = await colleague.post('/admin/profile', {
      _csrf: await csrfOf(colleague),
      username: 'bob',
      display_name: 'Bob',
      email: 'bob@example.com',
      time_zone: 'Europe/Paris',
      locale: 'fr',
      is_owner: '1',
      id: '1',
      password_hash: 'scrypt$x',
      google_sub: '123',
    });
    assert.equal(res.status, 303);
    const row = app.deps.sqlite.prepare("select is_owner, google_sub, id from staff where username = 'bob'").get() as { is_owner: number; google_sub: string | null; id: number };
    assert.equal(row.is_owner, 0);
    assert.equal(row.google_sub, null);
    assert.notEqual(row.id, 1);
    assert.equal((await colleague.get('/admin/invitations')).status, 404, 'still not the owner');
  });

  test('username and e-mail must stay unique', async () => {
    const res = await owner.post('/admin/profile', { _csrf: await csrfOf(owner), username: 'bob', display_name: 'A', email: 'bob@example.com', time_zone: 'Europe/Paris', locale: 'en' });
    assert.equal(res.status, 422);
    assert.match(res.text, /already taken/);
    assert.match(res.text, /already used/);
  });

  const png = pngFile;

  /** A real 64×64 picture's IHDR and IDAT chunks, to wrap with metadata chunks. */
  const realChunks = (): { ihdr: Buffer; idat: Buffer } => {
    const image = new PNG({ width: 64, height: 64 });
    image.data.fill(200);
    const file = PNG.sync.write(image);
    const data = (type: string) => {
      const at = file.indexOf(Buffer.from(type, 'latin1')) - 4;
      return file.subarray(at + 8, at + 8 + file.readUInt32BE(at));
    };
    return { ihdr: data('IHDR'), idat: data('IDAT') };
  };

  const upload = async (b: Browser, body: Buffer, name = 'me.png', type = 'image/png', csrf?: string) => {
    const form = new FormData();
    form.append('_csrf', csrf ?? (await csrfOf(b)));
    form.append('picture', new Blob([body], { type }), name);
    return b.postMultipart('/admin/profile/picture', form);
  };

  test('a PNG upload is stored without its text/EXIF/time chunks and served with its type and cache header', async () => {
    const { ihdr, idat } = realChunks();
    const body = png([
      ['IHDR', ihdr],
      ['tEXt', Buffer.from('Author\0Secret Person GPS 48.85', 'latin1')],
      ['eXIf', Buffer.from('EXIFDATA-GPS')],
      ['tIME', Buffer.alloc(7, 2)],
      ['IDAT', idat],
      ['IEND', Buffer.alloc(0)],
    ]);
    const res = await upload(owner, body);
    assert.equal(res.status, 303, res.text.slice(0, 300));
    const pic = await new Browser(app.url).get('/@alice/picture');
    assert.equal(pic.status, 200);
    assert.equal(pic.headers.get('content-type'), 'image/png');
    assert.equal(pic.headers.get('cache-control'), 'public, max-age=300');
    assert.ok(!pic.text.includes('Secret Person') && !pic.text.includes('EXIFDATA'));
    const served = PNG.sync.read(Buffer.from(await (await fetch(`${app.url}/@alice/picture`)).arrayBuffer()));
    assert.deepEqual([served.width, served.height, served.data[0]], [64, 64, 200]);
  });

  test('a 16-megapixel photo is decoded off the main thread: the server keeps answering meanwhile', async () => {
    // 4000×4000 RGB in one colour: a few kB to send, 48 MB of pixels to inflate, shrink and re-encode.
    const body = flatPng(4000, 90);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    const res = await upload(owner, body, 'big.png');
    const took = performance.now() - started;
    loop.disable();
    assert.equal(res.status, 303, res.text.slice(0, 300));
    assert.ok(took > 300, `the upload took ${took.toFixed(0)} ms: too light to tell where it was decoded`);
    // This test and the server share the main thread: decoding there would hold it for the whole upload.
    const longest = loop.max / 1e6;
    assert.ok(longest < took / 2, `the main thread was held for ${longest.toFixed(0)} ms of a ${took.toFixed(0)} ms upload`);
    const pic = await fetch(`${app.url}/@alice/picture`);
    const bytes = Buffer.from(await pic.arrayBuffer());
    assert.equal(pic.headers.get('content-type'), 'image/jpeg', 'an opaque picture becomes a JPEG');
    const served = jpeg.decode(bytes, { useTArray: true });
    assert.deepEqual([served.width, served.height], [512, 512], 'shrunk to 512 px');
    assert.ok(Math.abs((served.data[0] ?? 0) - 90) <= 3, `the colour kept (${served.data[0] ?? 0})`);
  });

  test('uploads: wrong type (even named .png), oversized, missing CSRF are refused', async () => {
    const html = Buffer.from('<html><script>alert(1)</script></html>');
    const wrong = await upload(owner, html, 'evil.png', 'image/png');
    assert.equal(wrong.status, 422);
    assert.match(wrong.text, /PNG or JPEG/);
    const svg = await upload(owner, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'a.svg', 'image/svg+xml');
    assert.equal(svg.status, 422);
    const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2 * 1024 * 1024 + 10)]);
    const tooBig = await upload(owner, big, 'big.jpg', 'image/jpeg');
    assert.equal(tooBig.status, 413);
    const noCsrf = await upload(owner, png([['IHDR', Buffer.alloc(13)], ['IEND', Buffer.alloc(0)]]), 'a.png', 'image/png', 'forged');
    assert.equal(noCsrf.status, 403);
  });
});

describe('invitations and removing staff', () => {
  let app: TestApp;
  let owner: Browser;
  before(async () => {
    app = await startTestApp();
    owner = await setupOwner(app);
  });
  after(() => app.stop());

  test('an invitation link works once, is stored hashed, and the colleague cannot see the team page', async () => {
    const res = await owner.post('/admin/invitations', { _csrf: await csrfOf(owner), email: 'carol@example.com' });
    assert.equal(res.status, 201);
    const link = /id="invite-link" value="([^"]+)"/.exec(res.text)?.[1] as string;
    const token = link.split('/invite/')[1] as string;
    const rows = app.deps.sqlite.prepare('select token_hash from invitations').all() as { token_hash: string }[];
    assert.ok(rows.length === 1 && rows[0]?.token_hash !== token);
    const carol = await inviteColleague(app, owner, { username: 'carol', email: 'carol2@example.com', password: PASSWORD });
    assert.equal((await carol.get('/admin/invitations')).status, 404);
    const again = await new Browser(app.url).get(new URL(link).pathname);
    assert.equal(again.status, 200, 'the first link is still pending');
    const fake = await new Browser(app.url).get(`/invite/${'A'.repeat(43)}`);
    assert.equal(fake.status, 404);
  });

  test('an accepted link cannot be used again; the owner removes a colleague after confirmation', async () => {
    const dave = await inviteColleague(app, owner, { username: 'dave', email: 'dave@example.com', password: PASSWORD });
    const id = (app.deps.sqlite.prepare("select id from staff where username = 'dave'").get() as { id: number }).id;
    const confirm = await owner.get(`/admin/staff/${id}/remove`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /dave/);
    const res = await owner.post(`/admin/staff/${id}/remove`, { _csrf: await csrfOf(owner) });
    assert.equal(res.status, 303);
    assert.equal((await dave.get('/admin')).status, 303, 'signed out: rows gone');
    assert.equal(app.deps.sqlite.prepare('select count(*) as n from staff where id = ?').get(id) !== undefined, true);
    assert.equal((app.deps.sqlite.prepare('select count(*) as n from staff where id = ?').get(id) as { n: number }).n, 0);
    const ownerId = (app.deps.sqlite.prepare('select id from staff where is_owner = 1').get() as { id: number }).id;
    assert.equal((await owner.get(`/admin/staff/${ownerId}/remove`)).status, 404, 'the owner cannot remove themselves here');
  });
});

describe('your data: export and deletion', () => {
  let app: TestApp;
  let owner: Browser;
  let deletedHook: number[];
  before(async () => {
    deletedHook = [];
    app = await startTestApp({}, {
      deps: (d) => ({
        ...d,
        beforeAccountDelete: async (id: number) => {
          deletedHook.push(id);
          await d.beforeAccountDelete?.(id);
        },
      }),
    });
    owner = await setupOwner(app);
  });
  after(() => app.stop());

  test('export downloads creneau/1 JSON without credentials', async () => {
    const res = await owner.get('/admin/data/export');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment/);
    const doc = JSON.parse(res.text) as Record<string, unknown>;
    assert.equal(doc.format, 'creneau/1');
    assert.ok(!/scrypt|password|google_sub|calendar/.test(res.text));
  });

  test('the owner cannot delete themselves while other staff exist', async () => {
    await inviteColleague(app, owner, { username: 'erin', email: 'erin@example.com', password: PASSWORD });
    const page = await owner.get('/admin/data');
    assert.match(page.text, /cannot delete your account while other staff/);
    const res = await owner.post('/admin/data/delete', { _csrf: await csrfOf(owner), password: PASSWORD, confirm: '1' });
    assert.equal(res.status, 409);
  });

  test('deleting my account needs the password and leaves no trace of the e-mail in the database or its WAL', async () => {
    const email = 'zed.unique.trace@example.org';
    const zed = await inviteColleague(app, owner, { username: 'zed', email, password: PASSWORD });
    const zedId = (app.deps.sqlite.prepare("select id from staff where username = 'zed'").get() as { id: number }).id;
    // Give the account some rows of its own.
    const svc = await zed.post('/admin/services', { _csrf: await csrfOf(zed), title: `Service of ${email}`, slug: 'consult', duration: '30', horizon: '60', 'hours[mon][0][from]': '09:00', 'hours[mon][0][to]': '12:00' });
    assert.equal(svc.status, 303);
    const wrong = await zed.post('/admin/data/delete', { _csrf: await csrfOf(zed, '/admin/data'), password: 'wrong password', confirm: '1' });
    assert.equal(wrong.status, 422);
    const res = await zed.post('/admin/data/delete', { _csrf: await csrfOf(zed, '/admin/data'), password: PASSWORD, confirm: '1' });
    assert.equal(res.status, 303);
    assert.deepEqual(deletedHook, [zedId], 'beforeAccountDelete called');
    assert.equal((await zed.get('/admin')).status, 303);
    for (const file of ['creneau.sqlite', 'creneau.sqlite-wal']) {
      const path = join(app.dataDir, file);
      if (!existsSync(path)) continue;
      const bytes = readFileSync(path);
      assert.equal(bytes.indexOf(Buffer.from(email)), -1, `${file} still holds the e-mail`);
      assert.equal(bytes.indexOf(Buffer.from('zed.unique')), -1, file);
    }
  });
});
