#!/usr/bin/env node
// `npm run interop`: the CalDAV interop matrix (src/calendars/caldav/interop.test.ts) with the
// heavier servers too (DAViCal: PHP + PostgreSQL; SOGo: + memcached), which `npm test` leaves out. Installs their
// Debian packages when missing (as root; otherwise prints the command), then runs the matrix
// with CRENEAU_INTEROP=1. Other arguments go to scripts/test.mjs (e.g. --test-name-pattern=…).
import { spawnSync } from 'node:child_process';
import { ensureSystemPackages } from './system-packages.mjs';

ensureSystemPackages({ interop: true });
const res = spawnSync(process.execPath, ['scripts/test.mjs', 'src/calendars/caldav/interop.test.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CRENEAU_INTEROP: '1' },
});
process.exit(res.status ?? 1);
