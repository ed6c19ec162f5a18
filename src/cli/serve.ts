import { createServer, type Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createApp } from '../app.js';
import { tryBoot } from '../boot.js';
import type { Config } from '../config.js';
import { parse } from './args.js';
import { done, fail, type CliOutcome } from './outcome.js';
import { ownerExists } from '../accounts/accounts.repo.js';
import { setupUrl } from '../accounts/setup-token.js';
import { ReminderScan } from '../reminders/reminder.service.js';

export const help = `Usage: creneau serve

Runs the web server (the default command). Configuration comes from the environment;
see the README's configuration table.`;

/** How long after listening a server that nobody has asked anything yet is taken to be idle. */
const SETTLED_MS = 1000;

/**
 * Start-up allocates fast, so V8 grows its young generation (to ~8 MiB) and keeps it until a
 * memory-reducing collection, which an idle server waits for (Node 20: ~20 s; Node 24: never).
 * One collection once the server is up (~15–45 ms, once) returns it on Node 24: the binary idles
 * at ~71 instead of ~80 MiB. Node 20 has no `flavor` (a plain full GC, which changes little; its
 * memory reducer brings it to ~63 MiB after ~20 s). `gc` is exposed only now, to a new context:
 * a V8 flag given at start would make V8 refuse the single binary's code cache, built without it.
 */
function releaseStartupGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: string; execution: string; flavor: string }) => void;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Starts the server and stops it gracefully on SIGTERM/SIGINT. */
export async function run(argv: readonly string[], config: Config): Promise<CliOutcome> {
  const parsed = parse(argv, {});
  if (!parsed.ok) return parsed;
  if (parsed.value.values.help) {
    console.log(help);
    return done;
  }
  const booted = await tryBoot(config);
  if (!booted.ok) return fail(booted.error.code, booted.error.message);
  const deps = booted.value;
  const { handler } = createApp(deps);
  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer(handler).listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10000;
  server.requestTimeout = 30000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  for (const warning of config.warnings) deps.log.startup(`warning ${warning}`);
  // Reminders are scanned beside the server (every CRENEAU_REMINDER_INTERVAL_SECONDS) and stop with it.
  const reminders = new ReminderScan(deps);
  reminders.start();
  // The start-up line is printed in every log mode, so the first-run link is always reachable.
  const firstRun = (await ownerExists(deps.db)) ? '' : `; first run: open ${setupUrl(config, deps.setupToken)} to create the owner account`;
  deps.log.startup(`creneau listening on ${config.host}:${port}, public URL ${config.baseUrl.toString()}, log ${config.log}${firstRun}`);
  setTimeout(releaseStartupGarbage, SETTLED_MS).unref();
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.close(() => {
        void reminders
          .stop()
          .then(() => deps.db.destroy())
          .then(() => resolve(done));
      });
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 5000).unref();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
