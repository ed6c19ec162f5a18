import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The CLI as a process, as an operator or a provisioning script sees it: the exit status and
// what lands on stdout/stderr. Exit statuses are the ones USAGE documents: 0 done, 1 refused,
// 2 bad arguments, 70 a bug.

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
// Resolved here: the children run in a temporary folder, where `--import tsx` would not be found.
const TSX = import.meta.resolve('tsx');
const root = mkdtempSync(join(tmpdir(), 'creneau-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** `creneau <args>` in a child process (tsx runs the sources, as `npm run cli` runs dist/). */
function creneau(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', CRENEAU_LOG: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

describe('creneau CLI exit paths', () => {
  const dataDir = join(root, 'data');
  const env = { CRENEAU_DATA_DIR: dataDir };

  test('bad arguments: exit 2 with the message and the help of the command (or the general usage)', async () => {
    const [unknownOption, missing, unknownCommand, badTimeout] = await Promise.all([
      creneau(['user', 'create', '--username', 'alice', '--email', 'a@example.com', '--frobnicate'], env),
      creneau(['import', 'file.json'], env),
      creneau(['frobnicate'], env),
      creneau(['healthcheck', '--timeout', 'soon'], env),
    ]);
    assert.equal(unknownOption.code, 2, unknownOption.err);
    assert.match(unknownOption.err, /^creneau user create: .*--frobnicate/);
    assert.match(unknownOption.err, /Usage: creneau user create --username U --email E/);
    assert.equal(missing.code, 2, missing.err);
    assert.match(missing.err, /^creneau import: --user is required\n\nUsage: creneau import --user U FILE\.json/);
    assert.equal(unknownCommand.code, 2);
    assert.match(unknownCommand.err, /^creneau: unknown command "frobnicate"\n\nUsage: creneau <command>/);
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.err, /--timeout must be a positive number of seconds\n\nUsage: creneau healthcheck/);
  });

  test('user create: success prints the generated password once; the same username again is refused (exit 1)', async () => {
    const created = await creneau(['user', 'create', '--username', 'alice', '--email', 'alice@example.com', '--owner'], env);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^created owner alice\npassword: \S{12,}\n/);
    assert.equal(created.err, '');

    const again = await creneau(['user', 'create', '--username', 'Alice', '--email', 'other@example.com'], env);
    assert.equal(again.code, 1, again.err);
    assert.match(again.err, /^creneau user create: --username: /);
    assert.doesNotMatch(again.err, /Usage:/, 'a refusal is not a usage error');
    assert.equal(again.out, '');

    const invalid = await creneau(['user', 'create', '--username', 'x', '--email', 'not-an-address'], env);
    assert.equal(invalid.code, 1, invalid.err);
    assert.match(invalid.err, /--username: /);
    assert.match(invalid.err, /--email: /);
  });

  test('import: an unreadable, a non-JSON or an invalid file is refused with exit 1 and nothing changes; a valid one is imported', async () => {
    const exported = await creneau(['export', '--user', 'alice'], env);
    assert.equal(exported.code, 0, exported.err);
    const doc = JSON.parse(exported.out) as { format: string; profile: Record<string, unknown>; services: unknown[] };
    assert.equal(doc.format, 'creneau/1');

    const notJson = join(root, 'not.json');
    writeFileSync(notJson, 'profile: alice\n');
    const unknownKey = join(root, 'unknown-key.json');
    writeFileSync(unknownKey, JSON.stringify({ ...doc, profile: { ...doc.profile, displayName: 'Mallory', favouriteColour: 'red' } }));
    const [missing, garbage, refused] = await Promise.all([
      creneau(['import', '--user', 'alice', join(root, 'absent.json')], env),
      creneau(['import', '--user', 'alice', notJson], env),
      creneau(['import', '--user', 'alice', unknownKey], env),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^creneau import: cannot read .*absent\.json\n$/);
    assert.equal(garbage.code, 1);
    assert.equal(garbage.err, 'creneau import: the file is not valid JSON\n');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^creneau import: unknown key "favouriteColour" at profile\n$/);
    const unchanged = await creneau(['export', '--user', 'alice'], env);
    assert.equal(unchanged.out, exported.out, 'a refused import changed nothing');

    const good = join(root, 'good.json');
    writeFileSync(good, JSON.stringify({ ...doc, profile: { ...doc.profile, displayName: 'Alice Martin' } }));
    const imported = await creneau(['import', '--user', 'alice', good], env);
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, /^imported alice: 0 service\(s\) created, 0 updated\n$/);
    assert.match((await creneau(['export', '--user', 'alice'], env)).out, /"displayName": "Alice Martin"/);
  });

  test('not found, configuration and data directory refusals: exit 1 with one clear line', async () => {
    const fileAsDir = join(root, 'a-file');
    writeFileSync(fileAsDir, 'x');
    const [nobody, badPort, badDir, noDb] = await Promise.all([
      creneau(['export', '--user', 'bob'], env),
      creneau(['backup', join(root, 'b.sqlite')], { ...env, CRENEAU_PORT: 'eighty' }),
      creneau(['backup', join(root, 'c.sqlite')], { CRENEAU_DATA_DIR: join(fileAsDir, 'data') }),
      creneau(['audit'], { CRENEAU_DATA_DIR: join(root, 'empty') }),
    ]);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.err, 'creneau export: no staff member is called "bob"\n');
    assert.equal(badPort.code, 1);
    assert.match(badPort.err, /^creneau: configuration error: CRENEAU_PORT: .*\n$/);
    assert.equal(badDir.code, 1);
    assert.match(badDir.err, /^creneau: the data directory .*a-file\/data cannot be created \(ENOTDIR\); check CRENEAU_DATA_DIR\n$/);
    assert.equal(noDb.code, 1);
    assert.match(noDb.err, /^creneau audit: no database at .*empty\/creneau\.sqlite/);
  });

  test('an error no code path expects: exit 70, one short line naming only the error class', async () => {
    // The key file is a directory: reading it fails in a way no command turns into an outcome.
    const odd = join(root, 'odd');
    mkdirSync(join(odd, 'secret.key'), { recursive: true });
    const res = await creneau(['backup', join(root, 'd.sqlite')], { CRENEAU_DATA_DIR: odd });
    assert.equal(res.code, 70, res.err);
    assert.equal(res.err, 'creneau backup: unexpected Error; this is a bug, please report it\n');
  });

  test('success paths of the read-only commands: help, export and backup exit 0', async () => {
    const [help, commandHelp, backup] = await Promise.all([
      creneau(['--help']),
      creneau(['backup', '--help']),
      creneau(['backup', join(root, 'copy.sqlite')], env),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.out, /Exit status: 0 done; 1 refused/);
    assert.equal(commandHelp.code, 0);
    assert.match(commandHelp.out, /^Usage: creneau backup FILE/);
    assert.equal(backup.code, 0, backup.err);
    assert.match(backup.out, /^backup written to .*copy\.sqlite\n$/);
  });
});
