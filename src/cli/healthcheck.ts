import { isIP } from 'node:net';
import type { Config } from '../config.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';

export const help = `Usage: creneau healthcheck [--timeout SECONDS]

Asks the running server on this machine (CRENEAU_HOST/CRENEAU_PORT) for /healthz and exits 0
when it answers {"status":"ok"}, 1 otherwise. For container health checks, where no curl is
available; it opens no database and prints nothing on success.`;

/** The address to reach a server listening on `host`: a wildcard means this machine's loopback. */
export function healthUrl(config: Pick<Config, 'host' | 'port'>): string {
  const { host, port } = config;
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}/healthz`;
  if (host === '::') return `http://[::1]:${port}/healthz`;
  return isIP(host) === 6 ? `http://[${host}]:${port}/healthz` : `http://${host}:${port}/healthz`;
}

/** GET /healthz on the local server; exit 0 only for a 200 {"status":"ok"}. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, { timeout: { type: 'string' } });
  if (!parsed.ok) return parsed;
  const { values } = parsed.value;
  if (values.help) {
    console.log(help);
    return done;
  }
  const seconds = Number(values.timeout ?? '5');
  if (!Number.isFinite(seconds) || seconds <= 0) return fail('usage', '--timeout must be a positive number of seconds');
  const url = healthUrl(config);
  const signal = AbortSignal.timeout(seconds * 1000);
  try {
    const res = await fetch(url, { signal, redirect: 'manual' });
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    if (res.status === 200 && body?.status === 'ok') return done;
    return fail('unreachable', `${url} answered ${res.status}`);
  } catch {
    return fail('unreachable', `${url} ${signal.aborted ? `no answer within ${seconds} s` : 'not reachable'}`);
  }
}
