// A deferred package (scripts/build-js.mjs DEFERRED) used for real by a compiled program: a
// CalDAV import through the CLI towards a closed local port reaches the network, so tsdav was
// loaded through its stand-in (a failure to load it is what dav() reports as "malformed").
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A local port nothing listens on (it was just closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Creates the owner `user` with `command` (e.g. [node, dist/main.js] or [dist/creneau]), exports
 * them, and imports the export back with a CalDAV calendar on a closed port: the import must fail
 * to connect, and nothing else. Returns the import's run (NODE_DEBUG=module on, for its stderr).
 */
export async function importFromClosedPort(command: readonly [string, ...string[]], cwd: string, env: NodeJS.ProcessEnv, user: string): Promise<SpawnSyncReturns<string>> {
  const [file, ...first] = command;
  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(file, [...first, ...args], { cwd, env: { ...env, ...extra }, encoding: 'utf8' });
  const created = cli(['user', 'create', '--username', user, '--email', `${user}@example.com`, '--owner']);
  assert.equal(created.status, 0, created.stderr);
  const exported = cli(['export', '--user', user]);
  assert.equal(exported.status, 0, exported.stderr);
  const calendar = { provider: 'caldav', url: `http://127.0.0.1:${await closedPort()}/dav/`, username: user, password: 'pw', calendar: 'Bookings', conflictCalendars: [] };
  writeFileSync(join(cwd, `${user}.json`), JSON.stringify({ ...(JSON.parse(exported.stdout) as object), calendar }));
  const imported = cli(['import', '--user', user, `${user}.json`], { CRENEAU_CALDAV_ALLOW_HOSTS: '127.0.0.1', NODE_DEBUG: 'module' });
  assert.equal(imported.status, 1, imported.stderr);
  assert.match(imported.stderr, /could not connect to 127\.0\.0\.1:\d+ \((?!malformed)[\w-]+\); nothing was imported/);
  return imported;
}
