// A CalDAV server written to hurt (issue #13), run as its own process by hostile.test.ts so that
// its own work (megabytes of XML, an endless answer) does not share the appliance's event loop
// and its latency figures stay honest. The test sets its behaviour over IPC.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode =
  | { readonly kind: 'ics'; readonly texts: readonly string[] }
  | { readonly kind: 'deep' }
  | { readonly kind: 'endless' }
  | { readonly kind: 'trickle' }
  | { readonly kind: 'no-self' }
  | { readonly kind: 'foreign-href' }
  | { readonly kind: 'redirect' }
  | { readonly kind: 'foreign-principal' };

/** What the server has seen, as reported to the test. */
export interface Seen {
  readonly requests: number;
  readonly withAuth: number;
  /** Bytes the endless answer managed to send before the client hung up. */
  readonly endlessSent: number;
}

export type Command = { readonly mode?: Mode; readonly other?: string; readonly reset?: boolean };

const state = { mode: { kind: 'ics', texts: [] } as Mode, other: '', requests: 0, withAuth: 0, endlessSent: 0 };
const deep = Buffer.from(`<?xml version="1.0"?><d:a xmlns:d="DAV:">${'<d:a>'.repeat(200_000)}${'</d:a>'.repeat(200_001)}`);

const MS = (inner: string): string => `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">${inner}</d:multistatus>`;
const ok200 = '<d:status>HTTP/1.1 200 OK</d:status>';
const collection = (href: string): string =>
  `<d:response><d:href>${href}</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Cal</d:displayname></d:prop>${ok200}</d:propstat></d:response>`;
const object = (href: string, etag: string, data?: string): string =>
  `<d:response><d:href>${href}</d:href><d:propstat><d:prop><d:getetag>"${etag}"</d:getetag><d:resourcetype/>${data === undefined ? '' : `<c:calendar-data><![CDATA[${data}]]></c:calendar-data>`}</d:prop>${ok200}</d:propstat></d:response>`;


function etagOf(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h.toString(16);
}

/** A CalDAV server on 127.0.0.1 whose answers follow `mode`; `other` is the origin it points to. */

function answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const path = req.url ?? '/';
  const mode = state.mode;
  const send = (xml: string | Buffer): void => {
    res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' });
    res.end(xml);
  };
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { dav: '1, 2, calendar-access' });
    res.end();
    return;
  }
  // Discovery: a principal and a home on this origin (or, to test, the principal elsewhere).
  if (path === '/' || path === '/.well-known/caldav') {
    const principal = mode.kind === 'foreign-principal' ? `${state.other}/principal/` : '/principal/';
    return send(MS(`<d:response><d:href>${path}</d:href><d:propstat><d:prop><d:current-user-principal><d:href>${principal}</d:href></d:current-user-principal></d:prop>${ok200}</d:propstat></d:response>`));
  }
  if (path === '/principal/') return send(MS(`<d:response><d:href>/principal/</d:href><d:propstat><d:prop><c:calendar-home-set><d:href>/home/</d:href></c:calendar-home-set></d:prop>${ok200}</d:propstat></d:response>`));
  if (path === '/home/') return send(MS(`<d:response><d:href>/home/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop>${ok200}</d:propstat></d:response>${collection('/cal/')}`));
  switch (mode.kind) {
    case 'deep':
      return send(deep);
    case 'endless': {
      // Chunked, for ever, written as the client reads (never held in memory here).
      res.writeHead(207, { 'content-type': 'application/xml' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed) {
          state.endlessSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => undefined);
      return pump();
    }
    case 'trickle': {
      res.writeHead(207, { 'content-type': 'application/xml' });
      const text = MS(collection('/cal/'));
      let i = 0;
      const t = setInterval(() => {
        if (res.destroyed || i >= text.length) return clearInterval(t);
        res.write(text[i++] ?? '');
      }, 1000);
      res.on('close', () => clearInterval(t));
      return;
    }
    case 'redirect':
      res.writeHead(307, { location: `${state.other}${path}` });
      res.end();
      return;
    case 'no-self':
      return send(MS(object('/cal/a.ics', 'x')));
    case 'foreign-href':
      return send(MS(collection('/cal/') + object(`${state.other}/cal/a.ics`, 'x')));
    case 'foreign-principal':
    case 'ics': {
      const texts = mode.kind === 'ics' ? mode.texts : [];
      const withData = body.includes('calendar-multiget') || body.includes('calendar-query');
      const items = texts.map((t, i) => object(`/cal/${i}.ics`, etagOf(t), withData ? t : undefined)).join('');
      // No CTag: every read lists the ETags, so a change of mode is seen at once.
      if (req.headers.depth === '0') return send(MS(collection('/cal/')));
      return send(MS((withData ? '' : collection('/cal/')) + items));
    }
  }
}

const srv = http.createServer((req, res) => {
  state.requests++;
  if (req.headers.authorization) state.withAuth++;
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => answer(req, res, body));
});

if (process.send) {
  srv.listen(0, '127.0.0.1', () => process.send?.({ port: (srv.address() as AddressInfo).port }));
  process.on('message', (c: Command) => {
    if (c.mode) state.mode = c.mode;
    if (c.other !== undefined) state.other = c.other;
    if (c.reset) Object.assign(state, { requests: 0, withAuth: 0, endlessSent: 0 });
    process.send?.({ seen: { requests: state.requests, withAuth: state.withAuth, endlessSent: state.endlessSent } });
  });
  process.on('disconnect', () => process.exit(0));
}
