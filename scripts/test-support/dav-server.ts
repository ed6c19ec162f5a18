// What every CalDAV server harness offers (Radicale, Xandikos, Cyrus), so one test can run
// against each of them; and the small pieces they share.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';

export interface DavServer {
  /** Server root, e.g. http://127.0.0.1:5232/ */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Creates a calendar collection (MKCALENDAR) and returns its absolute URL (trailing slash). */
  makeCalendar(name: string, displayName?: string, components?: readonly string[]): Promise<string>;
  /** PUTs one calendar object resource; returns the HTTP status. */
  put(calendarUrl: string, fileName: string, ics: string): Promise<number>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (for servers that cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The MKCALENDAR body every harness sends. */
export function mkcalendarBody(displayName: string, components: readonly string[]): string {
  const comps = components.map((c) => `<C:comp name="${c}"/>`).join('');
  return `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${displayName}</D:displayname><C:supported-calendar-component-set>${comps}</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`;
}

/** MKCALENDAR with Basic auth at `calUrl` (201 expected); the calendar's URL. */
export async function makeCalendarAt(authHeader: string, calUrl: string, displayName: string, components: readonly string[]): Promise<string> {
  const res = await fetch(calUrl, { method: 'MKCALENDAR', headers: { authorization: authHeader, 'content-type': 'application/xml' }, body: mkcalendarBody(displayName, components) });
  if (res.status !== 201) throw new Error(`MKCALENDAR ${calUrl}: ${res.status} ${await res.text()}`);
  return calUrl;
}

/** PUT of one object with Basic auth; the status. */
export async function putObject(authHeader: string, calendarUrl: string, fileName: string, ics: string): Promise<number> {
  const res = await fetch(new URL(fileName, calendarUrl), { method: 'PUT', headers: { authorization: authHeader, 'content-type': 'text/calendar; charset=utf-8' }, body: ics });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Stops a child started with `detached: true` (its own process group), so the workers it
 * forked go too: SIGTERM to the group, SIGKILL after 3 s.
 */
export async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
  // Workers may outlive their parent for a moment: make sure none is left in the group.
  signal('SIGKILL');
}

/** Polls `probe` until it answers true, or throws after `ms` (with what the server printed). */
export async function waitUntil(what: string, probe: () => Promise<boolean>, child: ChildProcess, output: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited early: ${output()}`);
    try {
      if (await probe()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Passes one request on to an upstream server and its answer back (a 502 when the upstream fails). */
export function forward(req: http.IncomingMessage, res: http.ServerResponse, upstream: http.RequestOptions): void {
  const up = http.request({ ...upstream, method: req.method, path: req.url }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}
