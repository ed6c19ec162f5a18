import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCaldavProvider, discoverCaldav } from './caldav.js';
import { createTransport } from './http.js';
import type { CalendarProvider } from '../provider.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
});

/** Radicale's DAV header: a server announcing it is read by time-range queries (view.ts `filtersRecurrences`). */
const TRUSTED_DAV = '1, 2, 3, calendar-access, addressbook, extended-mkcol';

/** A server for one test; OPTIONS is answered with `dav` (by default one whose time-range queries are trusted). */
async function serve(handler: Handler, dav = TRUSTED_DAV): Promise<{ url: string; port: number; hits: () => number }> {
  let hits = 0;
  const srv = http.createServer((req, res) => {
    hits++;
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { dav });
      return res.end();
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/cal/`, port, hits: () => hits };
}

async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const MS = (inner: string): string => `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">${inner}</d:multistatus>`;
const listing = (href: string): string =>
  MS(`<d:response><d:href>/cal/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>${href}</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`);

/** How a server without a REPORT answers it (RFC 3253 §3.6: 403 DAV:supported-report). */
function refuseReport(res: http.ServerResponse): void {
  res.writeHead(403, { 'content-type': 'application/xml' });
  res.end('<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:supported-report/></d:error>');
}

function provider(url: string, extra: Partial<Parameters<typeof createCaldavProvider>[0]> = {}): CalendarProvider {
  return createCaldavProvider({ username: 'u', password: 'p', bookingCalendarUrl: url, conflictCalendarUrls: [url], allowHosts: ['127.0.0.1'], uidHost: 'b.test', timeZone: 'UTC', timeoutMs: 2000, ...extra });
}
const RANGE = { start: Date.parse('2026-03-23T00:00:00Z'), end: Date.parse('2026-03-30T00:00:00Z') };

test('server down: unreachable, never an empty busy list', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/cal/`;
  assert.deepEqual(await provider(url).busy(RANGE), { ok: false, error: 'unreachable' });
  assert.deepEqual(await discoverCaldav({ url, username: 'u', password: 'p', allowHosts: ['127.0.0.1'] }), { ok: false, error: 'unreachable' });
});

test('slow server: timeout within the deadline', async () => {
  const s = await serve(() => undefined);
  const t0 = Date.now();
  assert.deepEqual(await provider(s.url, { timeoutMs: 300 }).busy(RANGE), { ok: false, error: 'timeout' });
  assert.ok(Date.now() - t0 < 2000);
});

test('HTTP errors map to typed failures', async () => {
  for (const [status, reason] of [[500, 'unreachable'], [503, 'unreachable'], [401, 'unauthorized'], [403, 'unauthorized'], [429, 'rate_limited']] as const) {
    const s = await serve((_q, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('no');
    });
    assert.deepEqual(await provider(s.url).busy(RANGE), { ok: false, error: reason }, String(status));
    assert.deepEqual(await provider(s.url).createEvent({ id: 'abc', start: RANGE.start, end: RANGE.start + 1, timeZone: 'UTC', summary: 's', description: '', location: '', organizer: { name: 'a', email: 'a@b.c' }, attendee: { name: 'c', email: 'c@d.e' }, serviceSlug: 'x' }), { ok: false, error: reason }, `PUT ${status}`);
  }
});

test('malformed XML and malformed ICS are malformed', async () => {
  const badXml = await serve((_q, res) => {
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.ics</d:href><d:propstat>');
  });
  assert.deepEqual(await provider(badXml.url).busy(RANGE), { ok: false, error: 'malformed' });
  const badIcs = await serve((req, res) => {
    res.writeHead(207, { 'content-type': 'application/xml' });
    if (req.method === 'PROPFIND') return res.end(listing('/cal/a.ics'));
    res.end(MS('<d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'));
  });
  assert.deepEqual(await provider(badIcs.url).busy(RANGE), { ok: false, error: 'malformed' });
  const missing = await serve((req, res, body) => {
    if (body.includes('calendar-query')) return refuseReport(res);
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end(req.method === 'PROPFIND' ? listing('/cal/a.ics') : MS(''));
  });
  assert.deepEqual(await provider(missing.url).busy(RANGE), { ok: false, error: 'malformed' }, 'an object listed but not delivered');
  const empty = await serve((_q, res) => {
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end(MS(''));
  });
  assert.deepEqual(await provider(empty.url).busy(RANGE), { ok: false, error: 'malformed' }, 'empty answers from something that does not answer as the calendar');
  const noData = await serve((req, res) => {
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end(req.method === 'PROPFIND' ? listing('/cal/a.ics') : MS('<d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'));
  });
  assert.deepEqual(await provider(noData.url).busy(RANGE), { ok: false, error: 'malformed' }, 'an object in the time-range answer without its data');
});

test('XML external entities are not resolved', async () => {
  const s = await serve((_q, res) => {
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/cal/</d:href><d:propstat><d:prop><d:current-user-principal><d:href>/p/</d:href></d:current-user-principal><c:calendar-home-set><d:href>/cal/</d:href></c:calendar-home-set><d:displayname>&xxe;</d:displayname><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`);
  });
  const res = await discoverCaldav({ url: s.url, username: 'u', password: 'p', allowHosts: ['127.0.0.1'] });
  assert.ok(!JSON.stringify(res).includes('root:'), 'file content leaked');
});

test('response size cap', async () => {
  const s = await serve((_q, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('x'.repeat(200_000));
  });
  const t = createTransport({ username: 'u', password: 'p', allowHosts: ['127.0.0.1'], origin: new URL(s.url).origin, maxBytes: 100_000 });
  assert.deepEqual(await t.request({ method: 'GET', url: s.url }), { ok: false, error: 'malformed' });
});

test('SSRF: private, loopback, link-local, metadata and mapped addresses are refused without connecting', async () => {
  const s = await serve((_q, res) => res.end('should not be reached'));
  const targets = [
    `https://127.0.0.1:${s.port}/`,
    `https://localhost:${s.port}/`,
    `https://[::1]:${s.port}/`,
    `https://[::ffff:127.0.0.1]:${s.port}/`,
    'https://10.0.0.1/',
    'https://192.168.1.1/',
    'https://172.16.0.1/',
    'https://169.254.1.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fe80::1]/',
    'https://0.0.0.0/',
    `http://127.0.0.1:${s.port}/`,
  ];
  for (const url of targets) {
    const t0 = Date.now();
    assert.deepEqual(await discoverCaldav({ url, username: 'u', password: 'p', allowHosts: [] }), { ok: false, error: 'refused' }, url);
    assert.deepEqual(await provider(url, { allowHosts: [] }).busy(RANGE), { ok: false, error: 'refused' }, url);
    assert.ok(Date.now() - t0 < 1000, `${url} was refused before connecting`);
  }
  assert.equal(s.hits(), 0);
});

test('SSRF: a redirect from an allowed host to loopback is refused', async () => {
  const target = await serve((_q, res) => res.end('loopback'));
  const s = await serve((_q, res) => {
    res.writeHead(301, { location: `http://127.0.0.1:${target.port}/cal/` });
    res.end();
  });
  const url = `http://localhost:${s.port}/cal/`;
  assert.deepEqual(await provider(url, { allowHosts: ['localhost'] }).busy(RANGE), { ok: false, error: 'refused' });
  assert.equal(target.hits(), 0);
  assert.ok(s.hits() > 0, 'the allow-listed host itself was reachable');
});

test('allowed when listed: loopback by address, name or CIDR', async () => {
  const s = await serve((req, res) => {
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end(req.method === 'PROPFIND' ? MS('<d:response><d:href>/cal/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>') : MS(''));
  });
  for (const [host, allowHosts] of [['127.0.0.1', ['127.0.0.1']], ['localhost', ['localhost']], ['127.0.0.1', ['127.0.0.0/8']], ['[::ffff:127.0.0.1]', ['127.0.0.1']]] as const) {
    const url = `http://${host}:${s.port}/cal/`;
    assert.deepEqual(await provider(url, { allowHosts }).busy(RANGE), { ok: true, value: [] }, url);
  }
});

test('reads keep connections alive, and one the server drops as it is reused is read again on a new one; writes never reuse', async () => {
  const sockets = new Set<unknown>();
  let dropNext = false;
  const s = await serve((req, res) => {
    sockets.add(req.socket);
    if (dropNext) {
      dropNext = false;
      req.socket.destroy(); // the server closes the idle connection just as the request arrives
      return;
    }
    if (req.method === 'PUT') {
      res.writeHead(201, { etag: '"e1"' });
      return res.end();
    }
    res.writeHead(207, { 'content-type': 'application/xml' });
    res.end(listing('/cal/a.ics').replace(/<d:response><d:href>\/cal\/a\.ics[\s\S]*<\/d:response>/, ''));
  });
  const p = provider(s.url);
  // A read is two requests at once (the time-range REPORT and the collection answering for itself).
  assert.deepEqual(await p.busy(RANGE), { ok: true, value: [] });
  const before = s.hits();
  assert.deepEqual(await p.busy(RANGE), { ok: true, value: [] });
  assert.equal(s.hits(), before + 2);
  assert.equal(sockets.size, 2, 'every read so far used the first two connections');
  dropNext = true;
  assert.deepEqual(await p.busy(RANGE), { ok: true, value: [] }, 'the dropped request was sent again');
  assert.equal(s.hits(), before + 5);
  assert.equal(sockets.size, 3, 'on a new connection');
  const created = await p.createEvent({ id: 'abc', start: RANGE.start, end: RANGE.start + 1, timeZone: 'UTC', summary: 's', description: '', location: '', organizer: { name: 'a', email: 'a@b.c' }, attendee: { name: 'c', email: 'c@d.e' }, serviceSlug: 'x' });
  assert.ok(created.ok, JSON.stringify(created));
  assert.equal(sockets.size, 4, 'a write takes a connection of its own');
});

test('a server not trusted with time ranges, without sync-collection: an unchanged CTag spares listing the calendar; a new one lists it again; a server without one is listed, asked once', async () => {
  const event = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:e1', 'DTSTAMP:20260301T000000Z', 'DTSTART:20260324T090000Z', 'DTEND:20260324T100000Z', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  for (const prop of ['getctag', 'none', 'bad request'] as const) {
    let tag = '"1"';
    let listings = 0;
    let depthZero = 0;
    let refused = 0;
    const s = await serve((req, res, body) => {
      assert.doesNotMatch(body, /calendar-query/, 'an untested server is not asked for a time range');
      if (body.includes('sync-collection')) {
        refused++;
        return refuseReport(res);
      }
      if (req.method === 'PROPFIND' && req.headers.depth === '0' && prop === 'bad request') {
        depthZero++;
        res.writeHead(400, { 'content-type': 'text/plain' });
        return res.end('no');
      }
      res.writeHead(207, { 'content-type': 'application/xml' });
      if (req.method === 'PROPFIND' && req.headers.depth === '0') {
        depthZero++;
        const propstat =
          prop === 'getctag'
            ? `<d:propstat><d:prop><cs:getctag xmlns:cs="http://calendarserver.org/ns/">${tag}</cs:getctag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>`
            : '<d:propstat><d:prop><cs:getctag xmlns:cs="http://calendarserver.org/ns/"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>';
        return res.end(MS(`<d:response><d:href>/cal/</d:href>${propstat}</d:response>`));
      }
      if (req.method === 'PROPFIND') {
        listings++;
        return res.end(listing('/cal/a.ics'));
      }
      assert.match(body, /calendar-multiget/);
      res.end(MS(`<d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>${event}</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`));
    }, '1, 2, 3, calendar-access');
    const p = provider(s.url);
    const busy = { ok: true, value: [{ start: Date.parse('2026-03-24T09:00:00Z'), end: Date.parse('2026-03-24T10:00:00Z') }] };
    assert.deepEqual(await p.busy(RANGE), busy, prop);
    assert.equal(listings, 1);
    assert.deepEqual(await p.busy(RANGE), busy, `${prop}: the same busy time`);
    if (prop === 'getctag') {
      assert.equal(listings, 1, 'unchanged CTag, no listing');
      tag = '"2"';
      assert.deepEqual(await p.busy(RANGE), busy);
      assert.equal(listings, 2, 'a new CTag lists again');
      assert.deepEqual(await p.busy(RANGE, { thorough: true }), busy);
      assert.equal(listings, 3, 'before a booking is written, the ETags are listed whatever the CTag says');
      assert.equal(depthZero, 5, 'four CTag asks, and the account’s own addresses asked once (for declined events)');
    } else {
      assert.equal(listings, 2, 'without a CTag every read lists the ETags');
      assert.equal(depthZero, 2, 'and the CTag is asked for only once (the other ask: the account’s own addresses, once)');
    }
    assert.equal(refused, 1, 'sync-collection is tried once');
  }
});
